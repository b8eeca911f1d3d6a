import type { ServerCapabilities } from "@modelcontextprotocol/server";
import type { Identity } from "../../auth/types.ts";
import type { ResolvedLocalUpstream } from "../../config/types.ts";
import { GatewayError, JsonRpcCode, unsupportedMethod, upstreamClosed } from "../../errors.ts";
import { describeError } from "../../_utils/errors.ts";
import type { Logger } from "../../_utils/logger.ts";
import { UpstreamLifecycle } from "../lifecycle.ts";
import type { RpcMessage, Upstream, UpstreamEvent, UpstreamRequestOptions, UpstreamStatus } from "../types.ts";
import type { LocalPromptTemplate } from "./define.ts";
import { InFlightCalls } from "../in-flight.ts";
import { compileEntries, diffEntries, findResource, resourceChanged, type LocalEntries } from "./entries.ts";
import { compilePrompt, listPrompt, renderPrompt } from "./prompts.ts";
import { listResource, listTemplate, readResource } from "./resources.ts";
import { ResourceSubscriptions } from "./subscriptions.ts";
import { callTool } from "./tools.ts";

export interface LocalUpstreamOptions {
  config: ResolvedLocalUpstream;
  log: Logger;
}

type Params = Record<string, unknown>;

/**
 * The tools, prompts and resources declared in the config, served in process behind the same interface as a
 * remote MCP server. `update(config)` swaps definitions on reload (clients get `list_changed` for lists that
 * changed); `setPromptTemplate` replaces a prompt's template at run time (prompt versions in the admin API).
 */
export class LocalUpstream implements Upstream {
  readonly name: string;
  readonly #log: Logger;
  readonly #life: UpstreamLifecycle;
  readonly #subscriptions: ResourceSubscriptions;
  readonly #calls = new InFlightCalls();
  #config: ResolvedLocalUpstream;
  #entries: LocalEntries;

  constructor(options: LocalUpstreamOptions) {
    this.name = options.config.name;
    this.#config = options.config;
    this.#log = options.log.withTag(`upstream:${this.name}`);
    this.#life = new UpstreamLifecycle(this.name, options.config.restart, this.#log, () => {});
    this.#entries = compileEntries(options.config);
    this.#subscriptions = new ResourceSubscriptions({
      resource: (uri) => {
        try {
          return findResource(this.#entries, uri);
        } catch {
          return undefined;
        }
      },
      emit: (message) => this.#emit(message),
      log: this.#log,
    });
  }

  status(): UpstreamStatus {
    return this.#life.status();
  }

  capabilities(): ServerCapabilities | undefined {
    if (this.#life.status().state !== "connected") return undefined;
    return { tools: { listChanged: true }, prompts: { listChanged: true }, resources: { subscribe: true, listChanged: true }, completions: {} };
  }

  async start(): Promise<void> {
    if (!this.#life.closed && this.#life.status().state !== "connected") this.#life.connected();
  }

  async request(message: RpcMessage, options: UpstreamRequestOptions = {}): Promise<Record<string, unknown>> {
    if (this.#life.status().state !== "connected") throw this.#life.unavailable();
    const params = message.params ?? {};
    const entries = this.#entries;
    switch (message.method) {
      case "ping":
        return {};
      case "tools/list":
        return { tools: [...entries.tools.values()].map((t) => t.listed) };
      case "prompts/list":
        return { prompts: [...entries.prompts.values()].map(listPrompt) };
      case "resources/list":
        return { resources: [...entries.resources.values()].map(listResource) };
      case "resources/templates/list":
        return { resourceTemplates: [...entries.templates.values()].map(listTemplate) };
      case "tools/call":
        return this.#callTool(params, options);
      case "prompts/get": {
        const prompt = entries.prompts.get(String(params.name ?? ""));
        if (!prompt) throw invalidParams(`Unknown prompt: ${String(params.name)}`);
        return renderPrompt(entries.engine, prompt, params.arguments);
      }
      case "resources/read": {
        const resource = findResource(entries, String(params.uri ?? ""));
        if (!resource) throw notFound(String(params.uri ?? ""));
        return this.#calls.run(`Resource "${resource.uri}"`, this.#config.timeout, options.signal, (signal) =>
          readResource(resource, { signal, log: this.#log.withTag(`resource:${resource.name}`) }),
        );
      }
      case "resources/subscribe":
      case "resources/unsubscribe": {
        const uri = String(params.uri ?? "");
        if (!findResource(entries, uri)) throw notFound(uri);
        if (message.method === "resources/subscribe") this.#subscriptions.add(uri);
        else this.#subscriptions.delete(uri);
        return {};
      }
      case "completion/complete":
        return { completion: this.#complete(params) };
      default:
        throw unsupportedMethod(this.name, message.method);
    }
  }

  /** Local entries take no client notifications (cancellation arrives as the request's abort signal). */
  async notify(): Promise<void> {}

  subscribe(listener: (event: UpstreamEvent) => void): () => void {
    return this.#life.subscribe(listener);
  }

  /**
   * Take new definitions (config reload): new functions and templates apply to the next call; clients get
   * `list_changed` for each list whose entries changed, and `resources/updated` for subscribed resources that changed.
   * A template set with `setPromptTemplate` survives unless the config changed that prompt.
   */
  update(config: ResolvedLocalUpstream): void {
    const previous = this.#entries;
    const next = compileEntries(config, previous);
    this.#config = config;
    this.#entries = next;
    const changed = diffEntries(previous, next);
    this.#subscriptions.refresh((uri) => resourceChanged(previous, next, uri));
    if (changed.tools) this.#emit({ method: "notifications/tools/list_changed" });
    if (changed.prompts) this.#emit({ method: "notifications/prompts/list_changed" });
    if (changed.resources) this.#emit({ method: "notifications/resources/list_changed" });
  }

  /**
   * Replace a prompt's template at run time (the admin API's prompt versions and rollback). The template must parse
   * and use only the prompt's declared arguments.
   * @throws GatewayError `NOT_FOUND` for an unknown prompt, `BAD_REQUEST` for a refused template.
   */
  setPromptTemplate(name: string, template: LocalPromptTemplate): void {
    const prompt = this.#entries.prompts.get(name);
    if (!prompt) throw new GatewayError("NOT_FOUND", `Unknown local prompt: ${name}`, { status: 404, rpcCode: JsonRpcCode.InvalidParams });
    let compiled;
    try {
      compiled = compilePrompt(this.#entries.engine, name, prompt.definition, template);
    } catch (error) {
      throw new GatewayError("BAD_REQUEST", `Template refused for prompt "${name}": ${describeError(error)}`, {
        status: 400,
        rpcCode: JsonRpcCode.InvalidParams,
      });
    }
    const prompts = new Map(this.#entries.prompts).set(name, compiled);
    this.#entries = { ...this.#entries, prompts, overridden: new Set(this.#entries.overridden).add(name) };
  }

  /** The template a prompt renders with now (the config's, or the one set at run time); undefined for an unknown prompt. */
  getPromptTemplate(name: string): LocalPromptTemplate | undefined {
    return this.#entries.prompts.get(name)?.template;
  }

  /** Every prompt with the template it renders with now; `overridden` when set with `setPromptTemplate`. */
  promptTemplates(): { name: string; template: LocalPromptTemplate; overridden: boolean }[] {
    return [...this.#entries.prompts.values()].map((p) => ({ name: p.name, template: p.template, overridden: this.#entries.overridden.has(p.name) }));
  }

  /** Notify subscribers that a resource changed (for computed resources whose source the config knows changed). */
  resourceUpdated(uri: string): void {
    if (this.#subscriptions.has(uri)) this.#emit({ method: "notifications/resources/updated", params: { uri } });
  }

  async close(options: { drainMs?: number } = {}): Promise<void> {
    if (this.#life.closed) return;
    this.#subscriptions.close();
    await this.#calls.close(options.drainMs, upstreamClosed(this.name));
    this.#life.close();
  }

  #callTool(params: Params, options: UpstreamRequestOptions): Promise<Record<string, unknown>> {
    const name = String(params.name ?? "");
    const tool = this.#entries.tools.get(name);
    if (!tool) throw invalidParams(`Unknown tool: ${name}`);
    const timeout = options.timeout ?? tool.definition.timeout ?? this.#config.timeout;
    const identity = (options as { identity?: Identity }).identity;
    const log = this.#log.withTag(`tool:${name}`);
    return this.#calls.run(`Tool "${name}"`, timeout, options.signal, async (signal) => ({
      ...(await callTool(tool, params.arguments, {
        signal,
        log,
        ...(identity ? { identity } : {}),
        progress: (progress) => options.onProgress?.(progress),
      })),
    }));
  }

  #complete(params: Params): { values: string[]; hasMore: boolean } {
    const ref = (params.ref ?? {}) as Params;
    const argument = (params.argument ?? {}) as Params;
    const prompt = ref.type === "ref/prompt" ? this.#entries.prompts.get(String(ref.name ?? "")) : undefined;
    const declared = prompt?.definition.arguments?.find((a) => a.name === argument.name);
    const typed = String(argument.value ?? "");
    const values = (declared?.values ?? []).filter((value) => value.startsWith(typed));
    return { values: values.slice(0, 100), hasMore: values.length > 100 };
  }

  #emit(message: RpcMessage): void {
    if (!this.#life.closed) this.#life.emit({ type: "notification", upstream: this.name, message });
  }
}

function invalidParams(message: string): GatewayError {
  return new GatewayError("BAD_REQUEST", message, { status: 400, rpcCode: JsonRpcCode.InvalidParams });
}

function notFound(uri: string): GatewayError {
  return new GatewayError("NOT_FOUND", `Resource not found: ${uri}`, { status: 404, rpcCode: JsonRpcCode.ResourceNotFound, data: { uri } });
}
