import { describe, expect, it } from "vitest";
import { buildCatalog, resolveResourceUpstream, type CatalogSource } from "../../src/registry/catalog.ts";

const source = (name: string, prefix: string | false, tools: string[], extra: Partial<CatalogSource["snapshot"]> = {}): CatalogSource => ({
  name,
  prefix,
  snapshot: { tools: tools.map((t) => ({ name: t, inputSchema: { type: "object" }, _meta: { keep: t } })), prompts: [], resources: [], templates: [], ...extra },
});

describe("buildCatalog", () => {
  it("namespaces every entry and keeps every other field of the upstream object", () => {
    const catalog = buildCatalog([source("a", "a", ["echo"]), source("b", "bee", ["echo"])], "__");
    expect([...catalog.tools.keys()]).toEqual(["a__echo", "bee__echo"]);
    expect(catalog.tools.get("bee__echo")).toEqual({
      upstream: "b",
      original: "echo",
      item: { name: "bee__echo", inputSchema: { type: "object" }, _meta: { keep: "echo" } },
    });
    expect(catalog.conflicts).toEqual([]);
  });

  it("reports a clash between two upstreams naming both instead of overwriting", () => {
    const catalog = buildCatalog([source("a", false, ["echo"]), source("b", false, ["echo", "other"])], "__");
    expect(catalog.tools.get("echo")?.upstream).toBe("a");
    expect(catalog.tools.get("other")?.upstream).toBe("b");
    expect(catalog.conflicts).toHaveLength(1);
    expect(catalog.conflicts[0]).toContain('upstream "a"');
    expect(catalog.conflicts[0]).toContain('upstream "b"');
  });

  it("routes resource URIs by listing first, then by template, and reports shadowed URIs", () => {
    const catalog = buildCatalog(
      [
        source("a", "a", [], { resources: [{ uri: "file:///x" }], templates: [{ uriTemplate: "a://items/{id}", name: "items" }] }),
        source("b", "b", [], { resources: [{ uri: "file:///x" }], templates: [{ uriTemplate: "b://things/{id}", name: "things" }] }),
      ],
      "__",
    );
    expect(resolveResourceUpstream(catalog, "file:///x")).toBe("a");
    expect(resolveResourceUpstream(catalog, "b://things/7")).toBe("b");
    expect(resolveResourceUpstream(catalog, "a://items/7")).toBe("a");
    expect(resolveResourceUpstream(catalog, "c://none")).toBeUndefined();
    expect(catalog.shadowed).toHaveLength(1);
  });
});
