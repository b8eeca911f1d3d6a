import type { Logger } from "../_utils/logger.ts";
import type { Catalog } from "./catalog.ts";
import type { EntryOverrides, NamedServerSpec } from "./server-spec.ts";
import { applyEntryOverrides, buildServerView } from "./view.ts";

interface Derived {
  base: Catalog;
  servers: Map<string, Catalog>;
}

/**
 * What each endpoint sees: the main endpoint gets the merged catalog with the global entry overrides,
 * each enabled virtual server its own selection of that. Views are derived lazily and cached per
 * catalog object, so they are rebuilt only when the catalog or the specs change, never per request.
 */
export class CatalogViews {
  readonly #catalog: () => Catalog;
  readonly #log: Logger;
  #overrides: EntryOverrides = {};
  #servers = new Map<string, NamedServerSpec>();
  #cache = new WeakMap<Catalog, Derived>();

  constructor(options: { catalog: () => Catalog; log: Logger }) {
    this.#catalog = options.catalog;
    this.#log = options.log;
  }

  /** Replace the overrides and the server list (config + run-time servers, merged by the caller). */
  update(overrides: EntryOverrides, servers: readonly NamedServerSpec[]): void {
    this.#overrides = overrides;
    this.#servers = new Map(servers.map((s) => [s.name, s]));
    this.#cache = new WeakMap();
  }

  /** The main endpoint's catalog. */
  base(): Catalog {
    return this.#derived().base;
  }

  /** The catalog of an enabled virtual server, or `undefined` when there is no such (enabled) server. */
  server(name: string): Catalog | undefined {
    const spec = this.#servers.get(name);
    if (!spec || spec.enabled === false) return undefined;
    const derived = this.#derived();
    let view = derived.servers.get(name);
    if (!view) {
      view = buildServerView(derived.base, spec);
      for (const conflict of view.conflicts) this.#log.warn(`virtual server "${name}": ${conflict}`);
      derived.servers.set(name, view);
    }
    return view;
  }

  /** `undefined` = the main endpoint. */
  catalogFor(server: string | undefined): Catalog | undefined {
    return server === undefined ? this.base() : this.server(server);
  }

  spec(name: string): NamedServerSpec | undefined {
    return this.#servers.get(name);
  }

  specs(): NamedServerSpec[] {
    return [...this.#servers.values()];
  }

  #derived(): Derived {
    const catalog = this.#catalog();
    let derived = this.#cache.get(catalog);
    if (!derived) {
      derived = { base: applyEntryOverrides(catalog, this.#overrides), servers: new Map() };
      this.#cache.set(catalog, derived);
    }
    return derived;
  }
}
