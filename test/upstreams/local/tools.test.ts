import * as v from "valibot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineTool } from "../../../src/index.ts";
import { connectV1, connectV2, endSession, firstText, nextEvent, waitFor } from "../../_helpers.ts";
import { rejection, startGateway } from "./_gateway.ts";

let runs = 0;
const aborted: string[] = [];
/** Resolves the pending `hang` waiter when a call starts. */
const onStart = new Map<string, () => void>();

const tools = {
  add: defineTool({
    description: "Add two numbers",
    input: v.object({ a: v.number(), b: v.pipe(v.number(), v.minValue(0)) }),
    annotations: { readOnlyHint: true },
    run: ({ a, b }) => {
      runs++;
      return String(a + b);
    },
  }),
  stats: defineTool({
    input: v.object({ values: v.array(v.number()) }),
    output: v.object({ sum: v.number(), count: v.number() }),
    run: ({ values }) => ({ sum: values.reduce((x, y) => x + y, 0), count: values.length }),
  }),
  explode: defineTool({
    input: v.object({}),
    run: () => {
      throw new Error("disk on fire\n    at secret (/srv/app/secret.ts:1:1)");
    },
  }),
  hang: defineTool({
    input: v.object({ id: v.string() }),
    timeout: 300,
    run: ({ id }, { signal }) => {
      onStart.get(id)?.();
      return new Promise((_resolve, reject) =>
        signal.addEventListener("abort", () => {
          aborted.push(id);
          reject(signal.reason);
        }),
      );
    },
  }),
  stubborn: defineTool({
    input: v.object({}),
    timeout: 200,
    // Ignores its signal: the call must still end at the timeout.
    run: () => new Promise(() => {}),
  }),
  progress: defineTool({
    input: v.object({ steps: v.number() }),
    run: async ({ steps }, { progress }) => {
      for (let i = 1; i <= steps; i++) progress({ progress: i, total: steps });
      return "done";
    },
  }),
};

let url: string;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ url, close } = await startGateway({ tools }));
});
afterAll(() => close?.());

describe("local tools", () => {
  it("lists each tool with the JSON Schema of its valibot input (v1 and v2 clients)", async () => {
    const v1 = await connectV1(url);
    const v2 = await connectV2(url);
    try {
      for (const client of [v1, v2]) {
        const { tools: listed } = await client.listTools();
        const add = listed.find((t) => t.name === "add");
        expect(add?.description).toBe("Add two numbers");
        expect(add?.inputSchema).toEqual({
          type: "object",
          properties: { a: { type: "number" }, b: { type: "number", minimum: 0 } },
          required: ["a", "b"],
        });
        expect(add?.annotations).toEqual({ readOnlyHint: true });
        expect(listed.find((t) => t.name === "stats")?.outputSchema).toMatchObject({ type: "object", required: ["sum", "count"] });
      }
    } finally {
      await endSession(v1);
      await v2.close();
    }
  });

  it("runs a tool with valid arguments for a v1 and a v2 client", async () => {
    const v1 = await connectV1(url);
    const v2 = await connectV2(url);
    try {
      expect(firstText(await v1.callTool({ name: "add", arguments: { a: 2, b: 3 } }))).toBe("5");
      expect(firstText(await v2.callTool({ name: "add", arguments: { a: -1, b: 1.5 } }))).toBe("0.5");
    } finally {
      await endSession(v1);
      await v2.close();
    }
  });

  it("returns structuredContent checked against the declared output schema", async () => {
    const client = await connectV2(url);
    try {
      const result = await client.callTool({ name: "stats", arguments: { values: [1, 2, 3] } });
      expect(result.structuredContent).toEqual({ sum: 6, count: 3 });
      expect(JSON.parse(firstText(result))).toEqual({ sum: 6, count: 3 });
    } finally {
      await client.close();
    }
  });

  it("rejects invalid arguments with an isError result naming the field, before run is called", async () => {
    const client = await connectV1(url);
    try {
      const before = runs;
      const wrongType = await client.callTool({ name: "add", arguments: { a: "2", b: 3 } });
      expect(wrongType.isError).toBe(true);
      expect(firstText(wrongType)).toMatch(/^Invalid arguments for tool "add": a: /);
      const belowMin = await client.callTool({ name: "add", arguments: { a: 1, b: -1 } });
      expect(firstText(belowMin)).toMatch(/b: /);
      const missing = await client.callTool({ name: "add", arguments: {} });
      expect(firstText(missing)).toMatch(/a: .*; b: /);
      expect(runs).toBe(before);
    } finally {
      await endSession(client);
    }
  });

  it("turns a throwing run into an isError result with the first line of the message only", async () => {
    const client = await connectV1(url);
    try {
      const result = await client.callTool({ name: "explode", arguments: {} });
      expect(result.isError).toBe(true);
      expect(firstText(result)).toBe("disk on fire");
      expect(JSON.stringify(result)).not.toContain("secret.ts");
    } finally {
      await endSession(client);
    }
  });

  it("aborts run's signal at the tool timeout and answers with a JSON-RPC error", async () => {
    const client = await connectV1(url);
    try {
      const t0 = Date.now();
      const error = await rejection(client.callTool({ name: "hang", arguments: { id: "timeout" } }));
      expect(error.code).toBe(-32011);
      expect(error.message).toMatch(/Tool "hang" did not finish within 300 ms/);
      expect(aborted).toContain("timeout");
      expect(Date.now() - t0).toBeLessThan(2_000);
    } finally {
      await endSession(client);
    }
  });

  it("ends a call whose run ignores its signal at the timeout", async () => {
    const client = await connectV1(url);
    try {
      const error = await rejection(client.callTool({ name: "stubborn", arguments: {} }));
      expect(error.message).toMatch(/did not finish within 200 ms/);
    } finally {
      await endSession(client);
    }
  });

  it("aborts run's signal when the client cancels the call", async () => {
    const client = await connectV1(url);
    try {
      const running = nextEvent<void>((resolve) => onStart.set("cancel", resolve), 5_000, "the tool to start");
      const controller = new AbortController();
      const call = client.callTool({ name: "hang", arguments: { id: "cancel" } }, undefined, { signal: controller.signal, timeout: 60_000 });
      await running;
      controller.abort(new Error("user gave up"));
      await expect(call).rejects.toThrow(/user gave up/);
      await waitFor(() => aborted.includes("cancel"), 2_000, "run's signal to abort");
    } finally {
      await endSession(client);
    }
  });

  it("forwards progress reported by run to a client that asked for it", async () => {
    const client = await connectV1(url);
    try {
      const seen: number[] = [];
      const result = await client.callTool({ name: "progress", arguments: { steps: 3 } }, undefined, { onprogress: (p) => seen.push(p.progress) });
      expect(firstText(result)).toBe("done");
      expect(seen).toEqual([1, 2, 3]);
    } finally {
      await endSession(client);
    }
  });
});
