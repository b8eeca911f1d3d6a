import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/index.ts";
import { startLegacyHttpServer, type LegacyHttpServer } from "../fixtures/servers.ts";
import { checkRbacConsistency } from "./_rbac.ts";

let fixture: LegacyHttpServer;
let gw: Gateway;
let url: string;

beforeAll(async () => {
  fixture = await startLegacyHttpServer({ name: "fx" });
  gw = await createGateway({ log: { level: "silent" }, upstreams: { fx: { type: "streamable-http", url: fixture.url, protocol: "legacy" } } });
  url = `${(await gw.listen({ port: 0 })).url}/mcp`;
});
afterAll(async () => {
  await gw?.close();
  await fixture?.close();
});

describe("RBAC consistency helper", () => {
  it("finds no mismatch without a policy, and reports a listed tool whose call is refused", async () => {
    const [report] = await checkRbacConsistency(url, [{ label: "anonymous", headers: {} }], {
      names: ["fx__echo", "fx__fail", "fx__whoami", "fx__does_not_exist"],
      argumentsFor: (name) => (name === "fx__echo" ? { text: "x" } : {}),
    });
    expect(report).toMatchObject({ label: "anonymous", refused: ["fx__does_not_exist"], mismatches: [] });
    expect(report!.listed).toContain("fx__echo");
    // A refusal predicate that (wrongly) counts every error as a denial exposes the helper's mismatch report.
    const [flagged] = await checkRbacConsistency(url, [{ label: "anonymous", headers: {} }], { names: ["fx__throws", "fx__fail"], isRefusal: () => true });
    expect(flagged!.mismatches).toEqual(["fx__throws: listed but refused"]);
  });
});
