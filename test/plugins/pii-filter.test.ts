import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { piiFilter, maskValue, type PiiFilterOptions } from "../../plugins/pii-filter/index.ts";
import { GatewayError, JsonRpcCode } from "../../src/errors.ts";
import { createGateway, type Gateway } from "../../src/index.ts";
import { PluginRunner } from "../../src/plugins/runner.ts";
import type { HookContext, HookName, HookPayloads } from "../../src/plugins/types.ts";
import { createLogger } from "../../src/_utils/logger.ts";
import { connectV1, firstText } from "../_helpers.ts";
import { startLegacyHttpServer, type LegacyHttpServer } from "../fixtures/servers.ts";

const log = createLogger("silent");
const ctx = (over: Partial<HookContext> = {}): HookContext => ({
  method: "tools/call",
  name: "up__echo",
  upstream: "up",
  sessionId: "s",
  signal: new AbortController().signal,
  log,
  state: new Map(),
  retry: false,
  ...over,
});

/** Run one hook of a pii-filter through the real PluginRunner (modes, blocks and errors as in production). */
async function run<K extends HookName>(options: PiiFilterOptions, hook: K, payload: HookPayloads[K]): Promise<HookPayloads[K]> {
  const runner = await PluginRunner.create([piiFilter(options)], log);
  try {
    return await runner.run(hook, payload, ctx());
  } finally {
    await runner.close();
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

const toolResult = (text: string, structured: unknown = { text }) => ({ result: { content: [{ type: "text", text }], structuredContent: structured } });

describe("pii-filter mask format", () => {
  it.each([
    ["email", "jane.doe@example.com", "j***@example.com"],
    ["card", "4242 4242 4242 4242", "**** **** **** 4242"],
    ["card", "4242424242424242", "************4242"],
    ["ssn", "123-45-6789", "***-**-6789"],
    ["phone", "+1 415-555-2671", "+* ***-***-2671"],
    ["iban", "DE89 3704 0044 0532 0130 00", "DE** **** **** **** **30 00"],
    ["ipv4", "203.0.113.42", "203.*.*.*"],
    ["ipv6", "2001:db8::1", "2001:****"],
    ["github-token", "ghp_R2d4kLm9Qx7Vb1Nc8Zt6Yw3Hs5Jp0Fa4Ge2U", "ghp_********"],
    ["stripe-key", "sk_live_wBk1gtb6D3roBFA8H1H2Y2QJ", "sk_live_********"],
    ["bearer-token", "3NK8PYeT0Rs0a2WaQTJ3WJi_PTRBFFZ", "********"],
  ] as const)("masks a %s as a short hint (%s → %s)", (kind, value, masked) => {
    expect(maskValue(kind, value, "*")).toBe(masked);
  });

  it("keeps the BEGIN and END lines of a private key and nothing of its body", () => {
    const pem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB+9qa8FORSDCmVEp6qhAcLDkfzRP1y1\n-----END EC PRIVATE KEY-----";
    expect(maskValue("private-key", pem, "#")).toBe("-----BEGIN EC PRIVATE KEY-----\n###\n-----END EC PRIVATE KEY-----");
  });
});

describe("pii-filter hooks", () => {
  it("masks an email in text content and structuredContent with the default options", async () => {
    const out = await run({}, "tools/call:after", toolResult("mail jane.doe@example.com now"));
    expect(out.result).toEqual({
      content: [{ type: "text", text: "mail j***@example.com now" }],
      structuredContent: { text: "mail j***@example.com now" },
    });
  });

  it("redacts with [REDACTED:<kind>] and honours maskChar in mask mode", async () => {
    const text = "card 4242 4242 4242 4242, ssn 536-22-1234";
    expect((await run({ action: "redact" }, "tools/call:after", toolResult(text))).result["content"]).toEqual([
      { type: "text", text: "card [REDACTED:card], ssn [REDACTED:ssn]" },
    ]);
    expect(firstText((await run({ maskChar: "•" }, "tools/call:after", toolResult(text))).result)).toBe("card •••• •••• •••• 4242, ssn •••-••-1234");
  });

  it("walks nested structuredContent (objects, arrays, string leaves) and leaves keys, numbers and blobs alone", async () => {
    const structured = {
      "jane@example.com": "key is not scanned",
      users: [{ name: "Jane", contact: { emails: ["jane@example.com", "ok"], phone: "+44 20 7946 0958" } }, { ip: "203.0.113.42", age: 42 }],
      file: { uri: "file:///x", mimeType: "application/octet-stream", blob: "amFuZUBleGFtcGxlLmNvbQ== jane@example.com" },
      image: { type: "image", mimeType: "image/png", data: "AKIAIOSFODNN7EXAMPLE" },
    };
    const out = await run({ action: "redact" }, "tools/call:after", toolResult("nothing here", structured));
    expect(out.result["structuredContent"]).toEqual({
      "jane@example.com": "key is not scanned",
      users: [{ name: "Jane", contact: { emails: ["[REDACTED:email]", "ok"], phone: "[REDACTED:phone]" } }, { ip: "[REDACTED:ipv4]", age: 42 }],
      file: structured.file,
      image: structured.image,
    });
  });

  it("filters embedded resource text but not blobs or images in tool content", async () => {
    const result = {
      content: [
        { type: "resource", resource: { uri: "mem://a", mimeType: "text/plain", text: "key AKIAIOSFODNN7EXAMPLE" } },
        { type: "resource", resource: { uri: "mem://b", blob: "AKIAIOSFODNN7EXAMPLE" } },
        { type: "image", mimeType: "image/png", data: "AKIAIOSFODNN7EXAMPLE" },
      ],
    };
    const out = await run({ action: "redact" }, "tools/call:after", { result });
    expect(out.result["content"]).toEqual([
      { type: "resource", resource: { uri: "mem://a", mimeType: "text/plain", text: "key [REDACTED:aws-access-key]" } },
      result.content[1],
      result.content[2],
    ]);
  });

  it("filters prompt messages and resource contents", async () => {
    const prompt = await run({ action: "redact" }, "prompts/get:after", {
      result: { messages: [{ role: "user", content: { type: "text", text: "call +1 415-555-2671" } }] },
    });
    expect(prompt.result["messages"]).toEqual([{ role: "user", content: { type: "text", text: "call [REDACTED:phone]" } }]);
    const resource = await run({ action: "redact" }, "resources/read:after", {
      result: { contents: [{ uri: "mem://a", text: "iban DE89 3704 0044 0532 0130 00" }, { uri: "mem://b", blob: "REU4OSAzNzA0" }] },
    });
    expect(resource.result["contents"]).toEqual([{ uri: "mem://a", text: "iban [REDACTED:iban]" }, { uri: "mem://b", blob: "REU4OSAzNzA0" }]);
  });

  it("leaves its own masked output alone, so input and output filtering do not stack", async () => {
    const text = "jane@example.com, +1 415-555-2671, 4242 4242 4242 4242, 536-22-1234, DE89 3704 0044 0532 0130 00, 203.0.113.42";
    const once = firstText((await run({}, "tools/call:after", toolResult(text))).result);
    expect(once).toBe("j***@example.com, +* ***-***-2671, **** **** **** 4242, ***-**-1234, DE** **** **** **** **30 00, 203.*.*.*");
    expect(await run({}, "tools/call:after", toolResult(once))).toEqual(toolResult(once));
  });

  it("never touches allow-listed values", async () => {
    const out = await run({ allow: ["support@example.com"] }, "tools/call:after", toolResult("support@example.com or jane@example.com"));
    expect(firstText(out.result)).toBe("support@example.com or j***@example.com");
  });

  it("only looks for the configured kinds", async () => {
    const out = await run({ kinds: ["card"] }, "tools/call:after", toolResult("jane@example.com 4242 4242 4242 4242"));
    expect(firstText(out.result)).toBe("jane@example.com **** **** **** 4242");
  });

  it("never mutates its input and returns the very same payload when nothing matched", async () => {
    const payload = deepFreeze(toolResult("mail jane@example.com", { deep: [{ text: "jane@example.com" }] }));
    const snapshot = structuredClone(payload);
    const out = await run({}, "tools/call:after", payload);
    expect(payload).toEqual(snapshot);
    expect(out).not.toBe(payload);
    const clean = deepFreeze(toolResult("nothing to see"));
    expect(await run({}, "tools/call:after", clean)).toBe(clean);
  });

  it("blocks with a JSON-RPC error naming the kinds and never the values", async () => {
    const error = await run({ action: "block" }, "tools/call:before", {
      params: { name: "up__echo", arguments: { note: "jane@example.com paid with 4242 4242 4242 4242" } },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    const { message, rpcCode, data } = error as GatewayError;
    expect(rpcCode).toBe(JsonRpcCode.Blocked);
    expect(message).toBe("Blocked by pii-filter: card, email found in the tool arguments");
    expect(data).toEqual({ plugin: "pii-filter", kinds: ["card", "email"] });
    expect(JSON.stringify({ message, data })).not.toMatch(/jane|4242/);
  });

  it("only logs what it would block when the plugin mode is permissive", async () => {
    const payload = { params: { name: "up__echo", arguments: { text: "jane@example.com" } } };
    expect(await run({ action: "block", mode: "permissive" }, "tools/call:before", payload)).toBe(payload);
  });

  it("hooks only the chosen direction and forwards plugin-level fields", () => {
    const plugin = piiFilter({ direction: "input", priority: 5, mode: "permissive", when: { upstreams: ["crm"] }, onError: "fail-open" });
    expect(plugin).toMatchObject({ name: "pii-filter", priority: 5, mode: "permissive", when: { upstreams: ["crm"] }, onError: "fail-open" });
    expect(Object.keys(plugin.hooks ?? {}).sort()).toEqual(["prompts/get:before", "tools/call:before"]);
    expect(Object.keys(piiFilter({ direction: "output" }).hooks ?? {}).sort()).toEqual(["prompts/get:after", "resources/read:after", "tools/call:after"]);
  });

  it("rejects bad options when the plugin is created", () => {
    expect(() => piiFilter({ kinds: ["passport" as never] })).toThrow(/unknown kind "passport"/);
    expect(() => piiFilter({ kinds: [] })).toThrow(/kinds/);
    expect(() => piiFilter({ action: "hide" as never })).toThrow(/action/);
    expect(() => piiFilter({ maskChar: "" })).toThrow(/maskChar/);
  });

  it("fails closed on a payload nested deeper than it will walk", async () => {
    let deep: unknown = "jane@example.com";
    for (let i = 0; i < 600; i++) deep = { deep };
    const error = await run({}, "tools/call:after", toolResult("x", deep)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "INTERNAL", message: expect.stringContaining('plugin "pii-filter" failed') });
  });

  it("filters a 1 MB structured payload of mixed records in well under a second", async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => ({ id: i, note: `order ${i} for user${i}@example.com from 203.0.113.${i % 250} on 2024-01-15`, blob: "x".repeat(100) }));
    const started = performance.now();
    const out = await run({}, "tools/call:after", toolResult("rows", { rows }));
    expect(performance.now() - started).toBeLessThan(1000);
    const first = (out.result["structuredContent"] as { rows: { note: string }[] }).rows[1];
    expect(first?.note).toBe("order 1 for u***@example.com from 203.*.*.* on 2024-01-15");
  });
});

describe("pii-filter end to end through a gateway", () => {
  let upstream: LegacyHttpServer;
  beforeAll(async () => {
    upstream = await startLegacyHttpServer({ name: "pii" });
  });
  afterAll(() => upstream?.close());

  async function withGateway(options: PiiFilterOptions, body: (url: string) => Promise<void>): Promise<void> {
    const gw: Gateway = await createGateway({
      log: { level: "silent" },
      plugins: [piiFilter(options)],
      upstreams: { up: { type: "streamable-http", url: upstream.url } },
    });
    try {
      await body(`${(await gw.listen({ port: 0 })).url}/mcp`);
    } finally {
      await gw.close();
    }
  }

  it("masks an email in the echoed text content and structuredContent (direction output)", async () => {
    await withGateway({ action: "mask", direction: "output" }, async (url) => {
      const client = await connectV1(url, "pii");
      const result = await client.callTool({ name: "up__echo", arguments: { text: "write to jane.doe@example.com" } });
      expect(firstText(result)).toBe("write to j***@example.com");
      expect(result.structuredContent).toEqual({ text: "write to j***@example.com" });
      await client.close();
    });
  });

  it("rejects the call with a JSON-RPC error naming the kind but not the value (action block)", async () => {
    await withGateway({ action: "block" }, async (url) => {
      const client = await connectV1(url, "pii");
      const error = await client.callTool({ name: "up__echo", arguments: { text: "jane.doe@example.com" } }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: JsonRpcCode.Blocked, message: expect.stringContaining("email") });
      expect(JSON.stringify(error)).not.toContain("jane.doe");
      expect((error as Error).message).not.toContain("jane.doe");
      expect(firstText(await client.callTool({ name: "up__echo", arguments: { text: "no pii here" } }))).toBe("no pii here");
      await client.close();
    });
  });

  it("masks arguments before the upstream sees them (direction input; the fixture echoes what it received)", async () => {
    await withGateway({ direction: "input" }, async (url) => {
      const client = await connectV1(url, "pii");
      const result = await client.callTool({ name: "up__echo", arguments: { text: "card 4242 4242 4242 4242" } });
      expect(firstText(result)).toBe("card **** **** **** 4242");
      expect(result.structuredContent).toEqual({ text: "card **** **** **** 4242" });
      await client.close();
    });
  });

  it("redacts prompt messages and resource contents from the upstream", async () => {
    await withGateway({ action: "redact", direction: "output" }, async (url) => {
      const client = await connectV1(url, "pii");
      const prompt = await client.getPrompt({ name: "up__greet", arguments: { name: "jane@example.com" } });
      expect(prompt.messages[0]?.content).toEqual({ type: "text", text: "Hello [REDACTED:email]" });
      const item = await client.readResource({ uri: "fixture://items/536-22-1234" });
      expect(item.contents[0]).toMatchObject({ uri: "fixture://items/536-22-1234", text: "item [REDACTED:ssn]" });
      await client.close();
    });
  });
});
