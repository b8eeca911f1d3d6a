/**
 * `node bench/profile-summary.ts <file.cpuprofile> [top]`: self time by function and by package/file,
 * as a share of the profile's non-idle samples.
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const file = process.argv[2]!;
const top = Number(process.argv[3] ?? 30);
const prof = JSON.parse(readFileSync(file, "utf8")) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));

const where = (url: string) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.startsWith("node:")) return url;
  const src = /\/(src\/.*|test\/.*|bench\/.*)$/.exec(url);
  return src ? src[1]! : url || "(native)";
};
// e.g. SKIP='writev|jiti|modules/' drops start-up transpiling and the scheduler time a write syscall hands to the peer.
const skip = process.env.SKIP ? new RegExp(process.env.SKIP) : undefined;
const fn = new Map<string, number>();
const pkg = new Map<string, number>();
let total = 0;
for (const [id, t] of self) {
  const n = byId.get(id)!;
  const name = n.callFrame.functionName || "(anonymous)";
  if (name === "(idle)" || (skip && skip.test(`${name} ${n.callFrame.url}`))) continue;
  total += t;
  const key = `${name} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + t);
  const p = name.startsWith("(") ? name : where(n.callFrame.url);
  pkg.set(p, (pkg.get(p) ?? 0) + t);
}
const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${(t / 1000).toFixed(0).padStart(6)} ms  ${k}`);
};
// Inclusive time per function (a recursive call is counted once, at its outermost frame).
const inclusive = new Map<string, number>();
const keyOf = (n: Node) => `${n.callFrame.functionName || "(anonymous)"} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const walk = (n: Node, open: Set<string>): number => {
  const key = keyOf(n);
  const dropped = n.callFrame.functionName === "(idle)" || (skip && skip.test(`${n.callFrame.functionName} ${n.callFrame.url}`));
  let t = dropped ? 0 : (self.get(n.id) ?? 0);
  const outer = !open.has(key);
  if (outer) open.add(key);
  for (const c of n.children ?? []) t += walk(byId.get(c)!, open);
  if (outer) {
    open.delete(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + t);
  }
  return t;
};
walk(prof.nodes[0]!, new Set());
console.log(`non-idle ${(total / 1000).toFixed(0)} ms`);
print("self time by package / file", pkg);
print("self time by function", fn);
const filter = process.env.INCLUSIVE;
print(`inclusive time${filter ? ` (matching ${filter})` : ""}`, new Map([...inclusive].filter(([k]) => !filter || new RegExp(filter).test(k))));
