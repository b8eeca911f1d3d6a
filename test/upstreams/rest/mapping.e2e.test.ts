/**
 * REST mappings end to end: a real HTTP API on 127.0.0.1, a real gateway, a real SDK v2 client. Arguments
 * become path, query, header and JSON body parameters; responses become MCP content; HTTP errors become
 * `isError` results; invalid arguments never reach the API.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as v from "valibot";
import type { Client } from "@modelcontextprotocol/client";
import type { GatewayConfig } from "../../../src/config/types.ts";
import { createGateway, type Gateway } from "../../../src/runtime/gateway.ts";
import { createLogger } from "../../../src/_utils/logger.ts";
import { connectV2, firstText } from "../../_helpers.ts";
import { json, startApiServer, type ApiServer } from "./_api-server.ts";

const PNG = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");

describe("rest upstream: mappings", () => {
  let api: ApiServer;
  let gw: Gateway;
  let client: Client;

  beforeAll(async () => {
    api = await startApiServer({
      "GET /forecast/Paris%20Nord": (req, res) => json(res, { city: "Paris Nord", days: Number(req.url.searchParams.get("days")), units: req.headers["x-units"] }),
      "POST /alerts": (req, res) => json(res, { id: "a1", ...JSON.parse(req.body) }, 201),
      "PUT /alerts/a1": (req, res) => json(res, { replaced: JSON.parse(req.body) }),
      "GET /list": (_req, res) => json(res, [1, 2, 3]),
      "GET /text": (_req, res) => void res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end("plain words"),
      "GET /image": (_req, res) => void res.writeHead(200, { "content-type": "image/png" }).end(PNG),
      "GET /pdf": (_req, res) => void res.writeHead(200, { "content-type": "application/pdf" }).end("%PDF-1.7"),
      "DELETE /alerts/a1": (_req, res) => void res.writeHead(204).end(),
      "GET /broken": (_req, res) => json(res, { error: "database exploded", detail: "x".repeat(2000) }, 500),
    });
    const config: GatewayConfig = {
      server: { port: 0 },
      network: { allow: ["127.0.0.1"] },
      rest: {
        weather: {
          baseUrl: api.url,
          retries: false,
          tools: {
            forecast: {
              method: "GET",
              path: "/forecast/{city}",
              description: "Forecast for a city",
              query: ["days"],
              headers: { "X-Units": "units" },
              input: v.object({ city: v.pipe(v.string(), v.minLength(2)), days: v.optional(v.number()), units: v.optional(v.picklist(["metric", "imperial"])) }),
              output: { type: "object", properties: { city: { type: "string" } } },
            },
            createAlert: { method: "POST", path: "/alerts", input: { type: "object", properties: { city: { type: "string" }, threshold: { type: "number" } }, required: ["city", "threshold"] } },
            replaceAlert: { method: "PUT", path: "/alerts/{id}", body: "alert" },
            deleteAlert: { method: "DELETE", path: "/alerts/{id}" },
            list: { method: "GET", path: "/list" },
            text: { method: "GET", path: "/text" },
            image: { method: "GET", path: "/image" },
            pdf: { method: "GET", path: "/pdf" },
            missing: { method: "GET", path: "/missing" },
            broken: { method: "GET", path: "/broken" },
          },
        },
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

  it("lists each mapping as a prefixed tool with its JSON Schema (valibot converted) and annotations", async () => {
    const { tools } = await client.listTools();
    const forecast = tools.find((t) => t.name === "weather__forecast")!;
    expect(forecast.description).toBe("Forecast for a city");
    expect(forecast.inputSchema).toMatchObject({ type: "object", required: ["city"], properties: { city: { type: "string", minLength: 2 }, units: { enum: ["metric", "imperial"] } } });
    expect(forecast.outputSchema).toMatchObject({ type: "object" });
    expect(forecast.annotations).toMatchObject({ readOnlyHint: true });
    expect(tools.find((t) => t.name === "weather__replaceAlert")!.inputSchema).toMatchObject({ required: ["id"], properties: { id: {}, alert: {} } });
    expect(gw.health().upstreams.weather).toMatchObject({ type: "rest", state: "connected", tools: 10 });
  });

  it("maps path (encoded), query and header arguments and turns a JSON object into structuredContent and text", async () => {
    const result = await client.callTool({ name: "weather__forecast", arguments: { city: "Paris Nord", days: 3, units: "metric" } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ city: "Paris Nord", days: 3, units: "metric" });
    expect(JSON.parse(firstText(result))).toEqual({ city: "Paris Nord", days: 3, units: "metric" });
    const seen = api.requests.at(-1)!;
    expect(seen.url.pathname + seen.url.search).toBe("/forecast/Paris%20Nord?days=3");
    expect(seen.headers["x-units"]).toBe("metric");
  });

  it("sends the remaining arguments of a POST as a JSON body, and a named argument as the whole body", async () => {
    const created = await client.callTool({ name: "weather__createAlert", arguments: { city: "Oslo", threshold: -10 } });
    expect(created.structuredContent).toEqual({ id: "a1", city: "Oslo", threshold: -10 });
    expect(api.requests.at(-1)!.headers["content-type"]).toBe("application/json");
    const replaced = await client.callTool({ name: "weather__replaceAlert", arguments: { id: "a1", alert: { city: "Bergen" } } });
    expect(replaced.structuredContent).toEqual({ replaced: { city: "Bergen" } });
  });

  it("returns JSON arrays and text as text, images as image content, other binaries as a blob resource, 204 as a note", async () => {
    const list = await client.callTool({ name: "weather__list", arguments: {} });
    expect(list.structuredContent).toBeUndefined();
    expect(firstText(list)).toBe("[1,2,3]");
    expect(firstText(await client.callTool({ name: "weather__text", arguments: {} }))).toBe("plain words");
    const image = await client.callTool({ name: "weather__image", arguments: {} });
    expect(image.content).toEqual([{ type: "image", mimeType: "image/png", data: PNG.toString("base64") }]);
    const pdf = await client.callTool({ name: "weather__pdf", arguments: {} });
    expect(pdf.content).toEqual([{ type: "resource", resource: { uri: `${api.url}/pdf`, mimeType: "application/pdf", blob: Buffer.from("%PDF-1.7").toString("base64") } }]);
    expect(firstText(await client.callTool({ name: "weather__deleteAlert", arguments: { id: "a1" } }))).toBe("HTTP 204 (no content)");
  });

  it("turns 404 and 500 into isError results with the status and a short body excerpt", async () => {
    const missing = await client.callTool({ name: "weather__missing", arguments: {} });
    expect(missing.isError).toBe(true);
    expect(firstText(missing)).toMatch(/^HTTP 404 Not Found: \{"error":"no such route"\}$/);
    const broken = await client.callTool({ name: "weather__broken", arguments: {} });
    expect(broken.isError).toBe(true);
    expect(firstText(broken)).toMatch(/^HTTP 500 Internal Server Error: \{"error":"database exploded"/);
    expect(firstText(broken).length).toBeLessThan(400);
  });

  it("rejects invalid arguments with an isError result before any request reaches the API", async () => {
    const before = api.requests.length;
    const short = await client.callTool({ name: "weather__forecast", arguments: { city: "P" } });
    expect(short.isError).toBe(true);
    expect(firstText(short)).toMatch(/Invalid arguments for tool "forecast": city: Invalid length/);
    const wrongType = await client.callTool({ name: "weather__createAlert", arguments: { city: "Oslo", threshold: "cold" } });
    expect(wrongType.isError).toBe(true);
    expect(firstText(wrongType)).toMatch(/threshold/);
    const noPath = await client.callTool({ name: "weather__deleteAlert", arguments: {} });
    expect(noPath.isError).toBe(true);
    expect(api.requests.length).toBe(before);
  });

  it("cannot climb out of the path template: slashes are encoded, dot segments refused", async () => {
    const before = api.requests.length;
    const dots = await client.callTool({ name: "weather__deleteAlert", arguments: { id: ".." } });
    expect(firstText(dots)).toMatch(/must not be "\." or "\.\."/);
    expect(api.requests.length).toBe(before);
    await client.callTool({ name: "weather__deleteAlert", arguments: { id: "../admin" } });
    expect(api.requests[before]!.url.pathname).toBe("/alerts/..%2Fadmin");
  });
});
