import type { Upstream } from "../upstreams/types.ts";

/** The lists one upstream currently offers, exactly as it sent them. */
export interface UpstreamSnapshot {
  tools: Record<string, unknown>[];
  prompts: Record<string, unknown>[];
  resources: Record<string, unknown>[];
  templates: Record<string, unknown>[];
}

export type ListKind = keyof UpstreamSnapshot;

/** list method, result key and capability that gates it, per kind. */
export const LISTS: Record<ListKind, { method: string; key: string; capability: "tools" | "prompts" | "resources" }> = {
  tools: { method: "tools/list", key: "tools", capability: "tools" },
  prompts: { method: "prompts/list", key: "prompts", capability: "prompts" },
  resources: { method: "resources/list", key: "resources", capability: "resources" },
  templates: { method: "resources/templates/list", key: "resourceTemplates", capability: "resources" },
};

const MAX_PAGES = 200;

/** Fetch every page of one list from an upstream (empty when the upstream lacks the capability). */
export async function fetchList(upstream: Upstream, kind: ListKind): Promise<Record<string, unknown>[]> {
  const spec = LISTS[kind];
  if (!upstream.capabilities()?.[spec.capability]) return [];
  const items: Record<string, unknown>[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await upstream.request({ method: spec.method, params: cursor ? { cursor } : {} });
    const list = result[spec.key];
    if (Array.isArray(list)) items.push(...(list as Record<string, unknown>[]));
    cursor = typeof result.nextCursor === "string" && result.nextCursor ? result.nextCursor : undefined;
    if (!cursor) break;
  }
  return items;
}
