import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { definePrompt, GatewayConfigError, GatewayError, LocalUpstream, resolveConfig } from "../../../src/index.ts";
import { createLogger } from "../../../src/_utils/logger.ts";
import { connectV1, connectV2, endSession } from "../../_helpers.ts";
import { rejection, startGateway } from "./_gateway.ts";

const prompts = {
  review: definePrompt({
    description: "Review code",
    arguments: [
      { name: "language", description: "Programming language", required: true, values: ["typescript", "python", "rust"] },
      { name: "focus" },
    ],
    template: "Review this {{ language | upcase }} code.{% if focus %} Focus on {{ focus }}.{% endif %}",
  }),
  dialogue: definePrompt({
    arguments: [{ name: "topic", required: true }],
    template: [
      { role: "user", text: "Tell me about {{ topic }}." },
      { role: "assistant", text: "{{ topic }} is a big subject. Which part?" },
    ],
  }),
  loop: definePrompt({
    arguments: [{ name: "n", required: true }],
    template: "{% for i in (1..n) %}{% for j in (1..n) %}x{% endfor %}{% endfor %}",
  }),
};

let url: string;
let gw: Awaited<ReturnType<typeof startGateway>>;

beforeAll(async () => {
  gw = await startGateway({ prompts });
  url = gw.url;
});
afterAll(() => gw?.close());

function text(result: { messages: { content: unknown }[] }, index = 0): string {
  return (result.messages[index]!.content as { text: string }).text;
}

describe("local prompts", () => {
  it("lists prompts with their declared arguments", async () => {
    const client = await connectV2(url);
    try {
      const { prompts: listed } = await client.listPrompts();
      expect(listed.find((p) => p.name === "review")).toEqual({
        name: "review",
        description: "Review code",
        arguments: [{ name: "language", description: "Programming language", required: true }, { name: "focus" }],
      });
    } finally {
      await client.close();
    }
  });

  it("renders a template with arguments and filters, optional arguments left out (v1 and v2)", async () => {
    const v1 = await connectV1(url);
    const v2 = await connectV2(url);
    try {
      const full = await v1.getPrompt({ name: "review", arguments: { language: "rust", focus: "lifetimes" } });
      expect(full.description).toBe("Review code");
      expect(full.messages).toEqual([{ role: "user", content: { type: "text", text: "Review this RUST code. Focus on lifetimes." } }]);
      expect(text(await v2.getPrompt({ name: "review", arguments: { language: "go" } }))).toBe("Review this GO code.");
    } finally {
      await endSession(v1);
      await v2.close();
    }
  });

  it("renders several messages with their roles", async () => {
    const client = await connectV1(url);
    try {
      const result = await client.getPrompt({ name: "dialogue", arguments: { topic: "tides" } });
      expect(result.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
      expect(text(result, 1)).toBe("tides is a big subject. Which part?");
    } finally {
      await endSession(client);
    }
  });

  it("answers a missing required or an unknown argument with JSON-RPC invalid params (-32602)", async () => {
    const client = await connectV1(url);
    try {
      const missing = await rejection(client.getPrompt({ name: "review", arguments: {} }));
      expect(missing.code).toBe(-32602);
      expect(missing.message).toMatch(/missing required argument "language"/);
      const unknown = await rejection(client.getPrompt({ name: "review", arguments: { language: "ts", tone: "harsh" } }));
      expect(unknown.code).toBe(-32602);
      expect(unknown.message).toMatch(/unknown argument "tone"/);
    } finally {
      await endSession(client);
    }
  });

  it("inserts argument values as text: Liquid in a value is not evaluated", async () => {
    const client = await connectV1(url);
    try {
      const result = await client.getPrompt({ name: "review", arguments: { language: "{{ constructor }}", focus: "{% include '/etc/passwd' %}" } });
      expect(text(result)).toBe("Review this {{ CONSTRUCTOR }} code. Focus on {% include '/etc/passwd' %}.");
    } finally {
      await endSession(client);
    }
  });

  it("bounds a template's rendering: a huge loop fails fast with a JSON-RPC error", async () => {
    const client = await connectV1(url);
    try {
      const t0 = Date.now();
      const error = await rejection(client.getPrompt({ name: "loop", arguments: { n: "100000" } }));
      expect(error.code).toBe(-32603);
      expect(error.message).toMatch(/could not be rendered: .*limit exceeded/);
      expect(Date.now() - t0).toBeLessThan(3_000);
    } finally {
      await endSession(client);
    }
  });

  it("completes a declared argument from its values", async () => {
    const client = await connectV1(url);
    try {
      const result = await client.complete({ ref: { type: "ref/prompt", name: "review" }, argument: { name: "language", value: "py" } });
      expect(result.completion.values).toEqual(["python"]);
    } finally {
      await endSession(client);
    }
  });
});

describe("prompt templates that try to escape", () => {
  const attempts: [string, RegExp][] = [
    ["{{ constructor }}", /undeclared variable\(s\) constructor/],
    ["{{ language.__proto__ }}", /reads "__proto__", which prompt templates may not access/],
    ["{{ language['constructor'] }}", /reads "constructor"/],
    ["{% include '/etc/passwd' %}", /\{% include %\} tag is not allowed/],
    ["{% render 'x' %}", /\{% render %\} tag is not allowed/],
    ["{% layout 'x' %}", /\{% layout %\} tag is not allowed/],
    ["{{ language | exec }}", /undefined filter: exec/],
  ];

  it.each(attempts)("refuses %s at config load, naming the prompt", (template, message) => {
    const load = () => resolveConfig({ prompts: { bad: { arguments: [{ name: "language" }], template } } });
    expect(load).toThrow(GatewayConfigError);
    expect(load).toThrow(/prompts\.bad\.template: /);
    expect(load).toThrow(message);
  });

  it("reads no prototype value through a dynamic property name at render time", async () => {
    const local = new LocalUpstream({ config: localConfig({ p: { arguments: [{ name: "a" }, { name: "k" }], template: "[{{ a[k] }}]" } }), log: createLogger("silent") });
    await local.start();
    for (const key of ["__proto__", "constructor", "toString"]) {
      const error = await rejection(local.request({ method: "prompts/get", params: { name: "p", arguments: { a: "x", k: key } } }));
      expect(error.message).toMatch(/could not be rendered: undefined variable/);
    }
    await local.close();
  });
});

describe("LocalUpstream.setPromptTemplate (prompt versions)", () => {
  it("renders with a new template, refuses one that does not parse, and keeps the previous one", async () => {
    const upstream = new LocalUpstream({ config: localConfig({ hi: { arguments: [{ name: "who", required: true }], template: "Hello {{ who }}" } }), log: createLogger("silent") });
    await upstream.start();
    const render = async () => {
      const result = await upstream.request({ method: "prompts/get", params: { name: "hi", arguments: { who: "Ada" } } });
      return text(result as never);
    };
    expect(await render()).toBe("Hello Ada");
    upstream.setPromptTemplate("hi", "Goodbye {{ who | downcase }}");
    expect(await render()).toBe("Goodbye ada");
    expect(upstream.getPromptTemplate("hi")).toBe("Goodbye {{ who | downcase }}");
    expect(upstream.promptTemplates()).toEqual([{ name: "hi", template: "Goodbye {{ who | downcase }}", overridden: true }]);

    const unparsable = (() => {
      try {
        upstream.setPromptTemplate("hi", "Hello {% if who %}");
      } catch (error) {
        return error as GatewayError;
      }
    })();
    expect(unparsable).toBeInstanceOf(GatewayError);
    expect(unparsable?.code).toBe("BAD_REQUEST");
    expect(unparsable?.message).toMatch(/^Template refused for prompt "hi": template does not parse: /);
    expect(() => upstream.setPromptTemplate("hi", "{{ secret }}")).toThrow(/undeclared variable\(s\) secret/);
    expect(() => upstream.setPromptTemplate("nope", "x")).toThrow(/Unknown local prompt: nope/);
    expect(await render()).toBe("Goodbye ada");
    await upstream.close();
  });
});

function localConfig(prompts: Record<string, ReturnType<typeof definePrompt>>) {
  const config = resolveConfig({ prompts });
  const local = config.upstreams.find((u) => u.type === "local");
  if (local?.type !== "local") throw new Error("no local upstream");
  return local;
}
