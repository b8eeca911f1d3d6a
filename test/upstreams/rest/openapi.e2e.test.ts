/**
 * OpenAPI import end to end: 3.0 (YAML) and 3.1 (JSON) documents with `$ref` cycles become tools, filtered by
 * tag, operationId, path glob and method, and are callable through a real gateway and SDK v2 client. Documents
 * that cannot be used (name collisions, remote `$ref`s, Swagger 2.0, a spec URL the SSRF guard refuses) leave
 * their upstream `failed` with a clear `lastError` while the gateway keeps serving the others.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "@modelcontextprotocol/client";
import type { GatewayConfig } from "../../../src/config/types.ts";
import { createGateway, type Gateway } from "../../../src/runtime/gateway.ts";
import { createLogger } from "../../../src/_utils/logger.ts";
import { connectV2 } from "../../_helpers.ts";
import { json, startApiServer, type ApiServer } from "./_api-server.ts";
import { readFileSync } from "node:fs";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe("rest upstream: OpenAPI import", () => {
  let api: ApiServer;
  let gw: Gateway;
  let client: Client;

  beforeAll(async () => {
    api = await startApiServer({
      "GET /categories/shoes": (req, res) => json(res, { name: "shoes", depth: req.url.searchParams.get("depth"), locale: req.headers["x-locale"] }),
      "PUT /categories/shoes": (req, res) => json(res, { put: JSON.parse(req.body) }),
      "POST /orders": (req, res) => json(res, { created: JSON.parse(req.body) }, 201),
      "GET /books/7": (_req, res) => json(res, { title: "Dune" }),
      "GET /authors": (req, res) => json(res, { tags: req.url.searchParams.getAll("tag") }),
      "GET /openapi.json": (_req, res) => void res.writeHead(200, { "content-type": "application/json" }).end(readFileSync(fixture("library-3.1.json"))),
    });
    const config: GatewayConfig = {
      server: { port: 0 },
      network: { allow: ["127.0.0.1"] },
      rest: {
        shop: { baseUrl: api.url, openapi: { spec: fixture("shop-3.0.yaml") } },
        catalog: { baseUrl: api.url, openapi: { spec: fixture("shop-3.0.yaml"), include: { tags: ["catalog"] }, exclude: { methods: ["put"] } } },
        orders: { baseUrl: api.url, openapi: { spec: fixture("shop-3.0.yaml"), include: { paths: ["/orders*"], methods: ["POST"] } } },
        byId: { baseUrl: api.url, openapi: { spec: fixture("library-3.1.json"), include: { operationIds: ["getBook", "listAuthors"] } } },
        library: { openapi: { spec: `${api.url}/openapi.json` } },
        mixed: { baseUrl: api.url, openapi: { spec: fixture("library-3.1.json") }, tools: { getBook: { method: "GET", path: "/books/{id}" } } },
        clash: { baseUrl: api.url, openapi: { spec: fixture("collision.yaml") } },
        remote: { baseUrl: api.url, openapi: { spec: fixture("remote-ref.yaml") } },
        old: { baseUrl: api.url, openapi: { spec: fixture("swagger-2.0.json") } },
        absent: { baseUrl: api.url, openapi: { spec: fixture("no-such-file.yaml") } },
      },
    };
    gw = await createGateway(config, { log: createLogger("silent") });
    const listener = await gw.listen({ port: 0 });
    client = await connectV2(`${listener.url}/mcp`);
  });

  afterAll(async () => {
    await client?.close();
    await gw?.close();
    await api?.close();
  });

  it("imports every JSON-capable operation of a 3.0 document, with inputs built from parameters and body", async () => {
    const { tools } = await client.listTools();
    const shop = tools.filter((t) => t.name.startsWith("shop__")).map((t) => t.name).sort();
    expect(shop).toEqual(["shop__createOrder", "shop__getCategory", "shop__get_orders", "shop__putCategory"]);
    const get = tools.find((t) => t.name === "shop__getCategory")!;
    expect(get.description).toBe("One category\n\nWith its subcategories, recursively.");
    expect(get.inputSchema).toEqual({
      type: "object",
      properties: { categoryId: { type: "string" }, depth: { type: "integer", minimum: 0 }, "X-Locale": { type: "string" } },
      required: ["categoryId"],
    });
    // The recursive Category schema is cut where it recurs; nullable became a null type.
    const put = tools.find((t) => t.name === "shop__putCategory")!;
    expect((put.inputSchema.properties as Record<string, { properties?: Record<string, unknown> }>).body!.properties!.parent).toEqual({});
    const order = tools.find((t) => t.name === "shop__createOrder")!;
    expect(order.inputSchema).toMatchObject({ properties: { body: { properties: { note: { type: ["string", "null"] } } } }, required: ["body"] });
  });

  it("calls imported operations: path, query, header and body parameters", async () => {
    const got = await client.callTool({ name: "shop__getCategory", arguments: { categoryId: "shoes", depth: 2, "X-Locale": "fr" } });
    expect(got.structuredContent).toEqual({ name: "shoes", depth: "2", locale: "fr" });
    const put = await client.callTool({ name: "shop__putCategory", arguments: { categoryId: "shoes", body: { name: "shoes", children: [{ name: "boots" }] } } });
    expect(put.structuredContent).toEqual({ put: { name: "shoes", children: [{ name: "boots" }] } });
    const bad = await client.callTool({ name: "shop__getCategory", arguments: { categoryId: "shoes", depth: -1 } });
    expect(bad.isError).toBe(true);
  });

  it("applies include and exclude filters by tag, method, path glob and operationId", async () => {
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names.filter((n) => n.startsWith("catalog__"))).toEqual(["catalog__getCategory"]);
    expect(names.filter((n) => n.startsWith("orders__"))).toEqual(["orders__createOrder"]);
    expect(names.filter((n) => n.startsWith("byId__")).sort()).toEqual(["byId__getBook", "byId__listAuthors"]);
  });

  it("loads a 3.1 document with cycles from a URL the SSRF guard allows, taking the base URL from its servers", async () => {
    expect(gw.health().upstreams.library).toMatchObject({ state: "connected", tools: 3 });
    const book = await client.callTool({ name: "library__getBook", arguments: { id: 7 } });
    expect(book.structuredContent).toEqual({ title: "Dune" });
    const authors = await client.callTool({ name: "library__listAuthors", arguments: { tag: ["sf", "classic"] } });
    expect(authors.structuredContent).toEqual({ tags: ["sf", "classic"] });
  });

  it("fails an upstream whose document cannot be used, with a clear lastError, and keeps the others", () => {
    const health = gw.health().upstreams;
    expect(health.mixed).toMatchObject({ state: "failed", lastError: expect.stringMatching(/tool name collision: "getBook"/) });
    expect(health.clash).toMatchObject({ state: "failed", lastError: expect.stringMatching(/GET \/a and GET \/b both become "get_item"/) });
    expect(health.remote).toMatchObject({ state: "failed", lastError: expect.stringMatching(/remote \$ref to http:\/\/127\.0\.0\.1:9\/schemas\.json refused/) });
    expect(health.old).toMatchObject({ state: "failed", lastError: expect.stringMatching(/Swagger 2\.0; convert it/) });
    expect(health.absent).toMatchObject({ state: "failed", lastError: expect.stringMatching(/cannot load OpenAPI document .*no-such-file\.yaml/) });
    expect(health.shop).toMatchObject({ state: "connected" });
  });
});

describe("rest upstream: OpenAPI spec URL and the SSRF guard", () => {
  it("refuses a spec URL on a loopback address unless network.allow lists it", async () => {
    const api = await startApiServer({
      "GET /openapi.json": (_req, res) => void res.writeHead(200, { "content-type": "application/json" }).end(readFileSync(fixture("library-3.1.json"))),
      "GET /schemas.json": (_req, res) => json(res, { Thing: { type: "object", properties: { id: { type: "string" } } } }),
      "GET /split.json": (_req, res) => json(res, SPLIT),
    });
    const spec = `${api.url}/openapi.json`;
    const blocked = await createGateway({ rest: { library: { openapi: { spec } } } }, { log: createLogger("silent") });
    const allowed = await createGateway({ network: { allow: ["127.0.0.1"] }, rest: { library: { openapi: { spec } } } }, { log: createLogger("silent") });
    try {
      expect(blocked.health().upstreams.library).toMatchObject({ state: "failed", lastError: expect.stringMatching(/blocked: loopback/) });
      expect(api.count("GET /openapi.json")).toBe(1);
      expect(allowed.health().upstreams.library).toMatchObject({ state: "connected", tools: 3 });
    } finally {
      await Promise.all([blocked.close(), allowed.close()]);
      await api.close();
    }
  });

  it("resolves a $ref to another document only with allowRemoteRefs, through the same guard", async () => {
    const api = await startApiServer({
      "GET /split.json": (_req, res) => json(res, SPLIT),
      "GET /schemas.json": (_req, res) => json(res, { Thing: { type: "object", properties: { id: { type: "string" } } } }),
    });
    const spec = `${api.url}/split.json`;
    const network = { allow: ["127.0.0.1"] };
    const refused = await createGateway({ network, rest: { split: { openapi: { spec } } } }, { log: createLogger("silent") });
    const resolved = await createGateway({ network, rest: { split: { openapi: { spec, allowRemoteRefs: true } } } }, { log: createLogger("silent") });
    try {
      expect(refused.health().upstreams.split).toMatchObject({ state: "failed", lastError: expect.stringMatching(/remote \$ref to .*schemas\.json refused/) });
      expect(resolved.health().upstreams.split).toMatchObject({ state: "connected", tools: 1 });
      expect(api.count("GET /schemas.json")).toBe(1);
    } finally {
      await Promise.all([refused.close(), resolved.close()]);
      await api.close();
    }
  });
});

/** A document whose request body lives in another document on the same host. */
const SPLIT = {
  openapi: "3.1.0",
  info: { title: "Split", version: "1" },
  servers: [{ url: "/" }],
  paths: {
    "/things": {
      post: {
        operationId: "createThing",
        requestBody: { content: { "application/json": { schema: { $ref: "schemas.json#/Thing" } } } },
        responses: { "201": { description: "created" } },
      },
    },
  },
};
