/** The REST example runs: its config loads, both APIs become tools, and calls reach the stand-in API. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "@modelcontextprotocol/client";
import { createGateway, type Gateway } from "../../src/runtime/gateway.ts";
import { createLogger } from "../../src/_utils/logger.ts";
import { connectV2 } from "../../test/_helpers.ts";
import { startWeatherApi } from "./weather-server.ts";

describe("REST example", () => {
  let api: Awaited<ReturnType<typeof startWeatherApi>>;
  let gw: Gateway;
  let client: Client;

  beforeAll(async () => {
    api = await startWeatherApi(0);
    process.env.WEATHER_URL = api.url;
    process.env.WEATHER_TOKEN = "demo-token";
    const { default: config } = await import("./gateway.config.ts");
    gw = await createGateway({ ...config, server: { port: 0 } }, { log: createLogger("silent") });
    client = await connectV2(`${(await gw.listen({ port: 0 })).url}/mcp`);
  });

  afterAll(async () => {
    delete process.env.WEATHER_URL;
    delete process.env.WEATHER_TOKEN;
    await client?.close();
    await gw?.close();
    await api?.close();
  });

  it("imports the OpenAPI operations (minus admin) and the typed mappings as tools", async () => {
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(["forecasts__forecast", "forecasts__subscribe", "weather__createAlert", "weather__getForecast"]);
  });

  it("calls through both, with the bearer token from the environment", async () => {
    const imported = await client.callTool({ name: "weather__getForecast", arguments: { city: "Oslo", days: 2, "X-Units": "imperial" } });
    expect(imported.structuredContent).toMatchObject({ city: "Oslo", days: [{ high: 50 }, { high: 51 }] });
    const typed = await client.callTool({ name: "forecasts__forecast", arguments: { city: "Oslo", days: 1 } });
    expect(typed.structuredContent).toMatchObject({ city: "Oslo", days: [{ high: 10 }] });
    const alert = await client.callTool({ name: "forecasts__subscribe", arguments: { body: { city: "Oslo", threshold: -5 } } });
    expect(alert.structuredContent).toEqual({ id: "alert-1", city: "Oslo", threshold: -5 });
  });
});
