import { describe, expect, it } from "vitest";
import { TaskState, type AgentCard, type Part, type Task } from "@a2a-js/sdk";
import { agentCardUrl, agentTools, partsToContent, taskResult } from "../../src/upstreams/a2a-mapping.ts";

const part = (content: Part["content"], extra: Partial<Part> = {}): Part => ({ content, mediaType: "", filename: "", metadata: undefined, ...extra });

function card(skills: string[]): AgentCard {
  return {
    name: "Trip Planner",
    description: "Plans trips.",
    skills: skills.map((id) => ({ id, name: id, description: "", tags: [], examples: [], inputModes: [], outputModes: [], securityRequirements: [] })),
  } as unknown as AgentCard;
}

function task(state: TaskState, note?: string): Task {
  const message = note === undefined ? undefined : ({ parts: [part({ $case: "text", value: note })] } as unknown as Task["history"][number]);
  return { id: "t1", contextId: "c1", status: { state, message, timestamp: undefined }, artifacts: [], history: [], metadata: undefined };
}

describe("agentCardUrl", () => {
  it("keeps a URL that names a JSON document and appends the well-known path to a base URL", () => {
    expect(agentCardUrl("https://a.example/cards/x.json")).toBe("https://a.example/cards/x.json");
    expect(agentCardUrl("https://a.example")).toBe("https://a.example/.well-known/agent-card.json");
    expect(agentCardUrl("https://a.example/agents/trip/")).toBe("https://a.example/agents/trip/.well-known/agent-card.json");
  });
});

describe("agentTools", () => {
  it("names one tool per skill with invalid characters replaced and clashes numbered", () => {
    const { tools, skills } = agentTools(card(["plan.trip", "plan trip", "book"]), "per-skill");
    expect(tools.map((t) => t.name)).toEqual(["plan_trip", "plan_trip_2", "book"]);
    expect(skills.get("plan_trip_2")).toBe("plan trip");
  });

  it("offers a single tool for the agent in single mode and when the card lists no skills", () => {
    expect(agentTools(card(["a", "b"]), "single").tools.map((t) => t.name)).toEqual(["Trip_Planner"]);
    const none = agentTools(card([]), "per-skill");
    expect(none.tools.map((t) => t.name)).toEqual(["Trip_Planner"]);
    expect(none.skills.get("Trip_Planner")).toBeUndefined();
  });
});

describe("partsToContent", () => {
  it("wraps several data parts as { data: [...] } and encodes binary files as blobs", () => {
    const result = partsToContent(
      [part({ $case: "data", value: [1, 2] }), part({ $case: "data", value: { a: 1 } }), part({ $case: "raw", value: Buffer.from([0xff, 0x00]) }, { mediaType: "image/png" })],
      "a2a://task/t1",
    );
    expect(result.structuredContent).toEqual({ data: [[1, 2], { a: 1 }] });
    expect((result.content as unknown[])[2]).toEqual({ type: "resource", resource: { uri: "a2a://task/t1/part-2", mimeType: "image/png", blob: "/wA=" } });
  });
});

describe("taskResult", () => {
  it("maps canceled, rejected and auth-required tasks to isError results that say why", () => {
    expect(taskResult(task(TaskState.TASK_STATE_CANCELED))).toMatchObject({ isError: true, content: [{ text: expect.stringContaining("canceled") }] });
    expect(taskResult(task(TaskState.TASK_STATE_REJECTED, "not allowed"))).toMatchObject({
      isError: true,
      content: [{ text: expect.stringContaining("rejected the task: not allowed") }],
    });
    const auth = taskResult(task(TaskState.TASK_STATE_AUTH_REQUIRED, "sign in at https://x"));
    expect(auth).toMatchObject({ isError: true, _meta: { a2a: { taskId: "t1", contextId: "c1", state: "auth-required" } } });
    expect(JSON.stringify(auth)).toContain("needs authorization");
  });
});
