import { describeError } from "../../_utils/errors.ts";
import type { Logger } from "../../_utils/logger.ts";
import type { RpcMessage } from "../types.ts";
import { watchResourceFile, type CompiledResource } from "./resources.ts";

export interface ResourceSubscriptionsOptions {
  /** The current definition of a URI (definitions change on reload); undefined when it names nothing readable. */
  resource(uri: string): CompiledResource | undefined;
  emit(message: RpcMessage): void;
  log: Logger;
}

/**
 * The URIs clients subscribed to (the router forwards the first subscribe and the last unsubscribe). File
 * resources are watched only while subscribed; a change becomes `notifications/resources/updated`.
 */
export class ResourceSubscriptions {
  readonly #options: ResourceSubscriptionsOptions;
  /** URI → stops its file watcher (a no-op for non-file resources). */
  readonly #active = new Map<string, () => void>();

  constructor(options: ResourceSubscriptionsOptions) {
    this.#options = options;
  }

  has(uri: string): boolean {
    return this.#active.has(uri);
  }

  add(uri: string): void {
    if (this.#active.has(uri)) return;
    this.#active.set(uri, this.#watch(uri));
  }

  delete(uri: string): void {
    this.#active.get(uri)?.();
    this.#active.delete(uri);
  }

  /** After a reload: watch the new files; tell subscribers of `changed` URIs (still defined) to read again. */
  refresh(changed: (uri: string) => boolean): void {
    for (const [uri, stop] of this.#active) {
      stop();
      if (!this.#options.resource(uri)) {
        this.#active.delete(uri);
        continue;
      }
      this.#active.set(uri, this.#watch(uri));
      if (changed(uri)) this.#updated(uri);
    }
  }

  close(): void {
    for (const stop of this.#active.values()) stop();
    this.#active.clear();
  }

  #watch(uri: string): () => void {
    const resource = this.#options.resource(uri);
    if (!resource?.file) return () => {};
    return watchResourceFile(
      resource,
      () => this.#updated(uri),
      (error) => this.#options.log.warn(`cannot watch the file of resource ${uri}: ${describeError(error)}`),
    );
  }

  #updated(uri: string): void {
    this.#options.emit({ method: "notifications/resources/updated", params: { uri } });
  }
}
