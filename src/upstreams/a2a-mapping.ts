import { Role, TaskState, type AgentCard, type Message, type Part, type StreamResponse, type Task } from "@a2a-js/sdk";
import type { A2aSkillMode } from "../config/types.ts";

/** Where an A2A agent publishes its card, relative to its base URL. */
export const AGENT_CARD_PATH = "/.well-known/agent-card.json";

/** The card URL for a configured `url`: the URL itself when it names a JSON document, else `<url>/.well-known/agent-card.json`. */
export function agentCardUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.pathname.endsWith(".json")) return parsed.href;
  parsed.pathname = `${parsed.pathname.replace(/\/+$/, "")}${AGENT_CARD_PATH}`;
  return parsed.href;
}

/** The arguments every A2A tool takes: a message, and the ids that continue an earlier conversation or task. */
const INPUT_SCHEMA = {
  type: "object",
  properties: {
    message: { type: "string", description: "The message to send to the agent." },
    contextId: { type: "string", description: "Continue the conversation with this contextId (from an earlier result)." },
    taskId: { type: "string", description: "Continue this task, e.g. one that asked for more input (from an earlier result)." },
  },
  required: ["message"],
} as const;

/** The tools derived from one agent card, and the skill each tool name sends to (`undefined` = the whole agent). */
export interface AgentTools {
  tools: Record<string, unknown>[];
  skills: Map<string, string | undefined>;
}

/**
 * MCP tools for an agent card: one per skill (`per-skill`, the default) or one for the agent (`single`, also
 * used when the card lists no skills). Names are sanitized skill ids; the registry adds the prefix and length rules.
 */
export function agentTools(card: AgentCard, mode: A2aSkillMode): AgentTools {
  const agent = { name: card.name, ...(card.version ? { version: card.version } : {}) };
  const skills = new Map<string, string | undefined>();
  const tools: Record<string, unknown>[] = [];
  const cardSkills = card.skills ?? [];
  if (mode === "single" || cardSkills.length === 0) {
    const name = toolName(card.name || "agent", skills);
    skills.set(name, undefined);
    const listed = cardSkills.map((s) => `- ${s.name || s.id}${s.description ? `: ${s.description}` : ""}`);
    tools.push({
      name,
      ...(card.name ? { title: card.name } : {}),
      description: [card.description, listed.length > 0 ? `Skills:\n${listed.join("\n")}` : ""].filter(Boolean).join("\n\n"),
      inputSchema: INPUT_SCHEMA,
      annotations: { ...(card.name ? { title: card.name } : {}), openWorldHint: true },
      _meta: { a2a: { agent } },
    });
    return { tools, skills };
  }
  for (const skill of cardSkills) {
    const name = toolName(skill.id, skills);
    skills.set(name, skill.id);
    const examples = (skill.examples ?? []).map((e) => `- ${e}`);
    tools.push({
      name,
      ...(skill.name ? { title: skill.name } : {}),
      description: [
        skill.description || skill.name || skill.id,
        examples.length > 0 ? `Examples:\n${examples.join("\n")}` : "",
        card.name ? `Answered by the A2A agent "${card.name}".` : "",
      ]
        .filter(Boolean)
        .join("\n\n"),
      inputSchema: INPUT_SCHEMA,
      annotations: { ...(skill.name ? { title: skill.name } : {}), openWorldHint: true },
      _meta: { a2a: { agent, skill: skill.id, ...(skill.tags?.length ? { tags: skill.tags } : {}) } },
    });
  }
  return { tools, skills };
}

/** A valid, unique tool name for a skill id: other characters become `_`, a clash gets `_2`, `_3`, … */
function toolName(id: string, taken: ReadonlyMap<string, unknown>): string {
  const base = id.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 60) || "skill";
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
  return name;
}

/** `TASK_STATE_INPUT_REQUIRED` → `input-required`, as the A2A spec names states in prose. */
export function stateName(state: TaskState | undefined): string {
  const key = state === undefined ? undefined : TaskState[state];
  return key && key !== "UNRECOGNIZED" ? key.replace(/^TASK_STATE_/, "").toLowerCase().replace(/_/g, "-") : "unknown";
}

/** States a task never leaves. */
export function isTerminal(state: TaskState | undefined): boolean {
  return (
    state === TaskState.TASK_STATE_COMPLETED ||
    state === TaskState.TASK_STATE_FAILED ||
    state === TaskState.TASK_STATE_CANCELED ||
    state === TaskState.TASK_STATE_REJECTED
  );
}

/** States after which the agent does nothing more without a new message: terminal, or waiting for input or auth. */
export function isSettled(state: TaskState | undefined): boolean {
  return isTerminal(state) || state === TaskState.TASK_STATE_INPUT_REQUIRED || state === TaskState.TASK_STATE_AUTH_REQUIRED;
}

/** A stream event folded into the task seen so far (a status or artifact update before any task starts one). */
export function applyStreamEvent(task: Task | undefined, payload: NonNullable<StreamResponse["payload"]>): Task | undefined {
  switch (payload.$case) {
    case "task":
      return payload.value;
    case "statusUpdate": {
      const { taskId, contextId, status } = payload.value;
      const base = task ?? { id: taskId, contextId, status: undefined, artifacts: [], history: [], metadata: undefined };
      return { ...base, status: status ?? base.status };
    }
    case "artifactUpdate": {
      const { taskId, contextId, artifact, append } = payload.value;
      const base = task ?? { id: taskId, contextId, status: undefined, artifacts: [], history: [], metadata: undefined };
      if (!artifact) return base;
      const artifacts = [...(base.artifacts ?? [])];
      const index = artifacts.findIndex((a) => a.artifactId === artifact.artifactId);
      const existing = index >= 0 ? artifacts[index] : undefined;
      const next = append && existing ? { ...existing, parts: [...(existing.parts ?? []), ...(artifact.parts ?? [])] } : artifact;
      if (index >= 0) artifacts[index] = next;
      else artifacts.push(next);
      return { ...base, artifacts };
    }
    default:
      return task;
  }
}

/** The text parts of a message, joined. */
export function messageText(message: Message | undefined): string {
  return (message?.parts ?? [])
    .map((p) => (p.content?.$case === "text" ? p.content.value : ""))
    .filter(Boolean)
    .join("\n");
}

/** A tool result for an agent's direct reply (no task). */
export function messageResult(message: Message): Record<string, unknown> {
  const ids = { contextId: message.contextId, ...(message.taskId ? { taskId: message.taskId } : {}) };
  return { ...partsToContent(message.parts ?? [], `a2a://context/${message.contextId}/message/${message.messageId}`), _meta: { a2a: ids } };
}

/**
 * A tool result for a settled task. `completed` → its artifacts (then the final status message);
 * `failed`/`rejected`/`canceled` → `isError` with the agent's reason; `input-required`/`auth-required` →
 * `isError` saying what the agent needs and the `taskId`/`contextId` to continue with.
 */
export function taskResult(task: Task): Record<string, unknown> {
  const state = task.status?.state;
  const ids = { taskId: task.id, contextId: task.contextId, state: stateName(state) };
  const reason = messageText(task.status?.message);
  const error = (text: string) => ({ content: [{ type: "text", text }], isError: true, _meta: { a2a: ids } });
  switch (state) {
    case TaskState.TASK_STATE_COMPLETED: {
      const parts = (task.artifacts ?? []).flatMap((a) => a.parts ?? []);
      parts.push(...(task.status?.message?.parts ?? []));
      if (parts.length === 0) parts.push(...lastAgentMessageParts(task));
      return { ...partsToContent(parts, `a2a://task/${task.id}`), _meta: { a2a: ids } };
    }
    case TaskState.TASK_STATE_FAILED:
    case TaskState.TASK_STATE_REJECTED:
      return error(`The agent ${state === TaskState.TASK_STATE_FAILED ? "failed the task" : "rejected the task"}${reason ? `: ${reason}` : "."} (taskId ${task.id})`);
    case TaskState.TASK_STATE_CANCELED:
      return error(`The task was canceled${reason ? `: ${reason}` : "."} (taskId ${task.id})`);
    case TaskState.TASK_STATE_INPUT_REQUIRED:
    case TaskState.TASK_STATE_AUTH_REQUIRED: {
      const needs = state === TaskState.TASK_STATE_AUTH_REQUIRED ? "authorization" : "more input";
      return error(
        `The agent needs ${needs} to continue${reason ? `: ${reason}` : "."}\n` +
          `To continue, call this tool again with your reply as "message", "taskId": "${task.id}" and "contextId": "${task.contextId}".`,
      );
    }
    default:
      return error(`The agent left the task in state "${ids.state}" (taskId ${task.id}).`);
  }
}

function lastAgentMessageParts(task: Task): Part[] {
  const history = task.history ?? [];
  for (let i = history.length - 1; i >= 0; i--) {
    const message = history[i]!;
    if (message.role === Role.ROLE_AGENT) return message.parts ?? [];
  }
  return [];
}

/**
 * MCP content for A2A parts: text → text; data → JSON text, and `structuredContent` (the object itself when
 * there is exactly one data object, else `{ data: [...] }`); file by URL → `resource_link`; file bytes →
 * embedded `resource` (text when the media type is `text/*`, else base64 blob) under `uriBase`.
 */
export function partsToContent(parts: readonly Part[], uriBase: string): Record<string, unknown> {
  const content: Record<string, unknown>[] = [];
  const data: unknown[] = [];
  parts.forEach((part, index) => {
    const mimeType = part.mediaType ? { mimeType: part.mediaType } : {};
    switch (part.content?.$case) {
      case "text":
        content.push({ type: "text", text: part.content.value });
        break;
      case "data":
        data.push(part.content.value);
        content.push({ type: "text", text: JSON.stringify(part.content.value) });
        break;
      case "url":
        content.push({ type: "resource_link", uri: part.content.value, name: part.filename || fileName(part.content.value), ...mimeType });
        break;
      case "raw": {
        const bytes = Buffer.from(part.content.value);
        const uri = `${uriBase}/${encodeURIComponent(part.filename || `part-${index}`)}`;
        const body = part.mediaType?.startsWith("text/") ? { text: bytes.toString("utf8") } : { blob: bytes.toString("base64") };
        content.push({ type: "resource", resource: { uri, ...mimeType, ...body } });
        break;
      }
      default:
        break;
    }
  });
  const only = data.length === 1 ? data[0] : undefined;
  const structured = only && typeof only === "object" && !Array.isArray(only) ? only : data.length > 0 ? { data } : undefined;
  return { content, ...(structured ? { structuredContent: structured } : {}) };
}

function fileName(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.split("/").pop() || "") || "file";
  } catch {
    return "file";
  }
}
