import { randomUUID } from "node:crypto";
import { Role, type SendMessageRequest, type Task } from "@a2a-js/sdk";
import type { Client } from "@a2a-js/sdk/client";
import { describeError } from "../_utils/errors.ts";
import type { Logger } from "../_utils/logger.ts";
import { applyStreamEvent, isSettled, isTerminal, messageResult, messageText, stateName, taskResult } from "./a2a-mapping.ts";
import type { UpstreamRequestOptions } from "./types.ts";

const POLL_MIN_MS = 100;
const POLL_MAX_MS = 2000;
const CANCEL_TIMEOUT_MS = 5000;

/** One tool call's message to an agent, and how to follow it. */
export interface AgentCall {
  client: Client;
  /** The card says `capabilities.streaming`. */
  streaming: boolean;
  message: string;
  skillId?: string;
  contextId?: string;
  taskId?: string;
  signal: AbortSignal;
  onProgress?: UpstreamRequestOptions["onProgress"];
  log: Logger;
}

/** What the call has seen of its task so far (to cancel it on abort), and the last progress value sent. */
interface CallState {
  task?: Task;
  progress: number;
}

/**
 * Send one message and follow its task until it settles (terminal, or waiting for input or auth): streamed when
 * the agent streams, polled otherwise. Returns the MCP tool result. When `signal` aborts (caller gone, timeout,
 * close), the agent's task is cancelled and the abort reason is thrown.
 */
export async function callAgent(call: AgentCall): Promise<Record<string, unknown>> {
  const request: SendMessageRequest = {
    tenant: "",
    message: {
      messageId: randomUUID(),
      role: Role.ROLE_USER,
      contextId: call.contextId ?? "",
      taskId: call.taskId ?? "",
      parts: [{ content: { $case: "text", value: call.message }, mediaType: "text/plain", filename: "", metadata: undefined }],
      // A2A has no skill routing; the id is a hint agents may read.
      metadata: call.skillId === undefined ? undefined : { skillId: call.skillId },
      extensions: [],
      referenceTaskIds: [],
    },
    configuration: undefined,
    metadata: undefined,
  };
  const state: CallState = { progress: 0 };
  try {
    return call.streaming ? await stream(call, request, state) : await send(call, request, state);
  } catch (error) {
    if (!call.signal.aborted) throw error;
    await cancel(call, state.task);
    throw call.signal.reason;
  }
}

/** Streaming agents: status and artifact updates become progress; the stream ends when the task settles. */
async function stream(call: AgentCall, request: SendMessageRequest, state: CallState): Promise<Record<string, unknown>> {
  for await (const event of call.client.sendMessageStream(request, { signal: call.signal })) {
    const payload = event.payload;
    if (!payload) continue;
    if (payload.$case === "message") return messageResult(payload.value);
    state.task = applyStreamEvent(state.task, payload);
    if (payload.$case === "statusUpdate") {
      const status = payload.value.status;
      report(call, state, messageText(status?.message) || stateName(status?.state));
    } else if (payload.$case === "artifactUpdate") {
      const artifact = payload.value.artifact;
      report(call, state, `artifact ${artifact?.name || artifact?.artifactId || ""}`.trim());
    }
    // A task snapshot opening a follow-up turn still shows the state that asked for input; only updates settle it.
    // (auth-required keeps the agent's stream open; we stop there either way.)
    const settled =
      payload.$case === "statusUpdate" ? isSettled(payload.value.status?.state) : payload.$case === "task" && isTerminal(payload.value.status?.state);
    if (settled) break;
  }
  if (!state.task) throw new Error("the agent's stream ended without a task or message");
  return taskResult(await poll(call, state.task, state));
}

/**
 * Non-streaming agents: a new task is sent without blocking and polled until it settles. A follow-up turn
 * blocks instead (its first snapshot still shows the state that asked for input), and is cancellable by its known id.
 */
async function send(call: AgentCall, request: SendMessageRequest, state: CallState): Promise<Record<string, unknown>> {
  const { taskId, contextId } = request.message!;
  if (taskId) state.task = { id: taskId, contextId, status: undefined, artifacts: [], history: [], metadata: undefined };
  const configuration = { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately: !taskId };
  const first = await call.client.sendMessage({ ...request, configuration }, { signal: call.signal });
  if ("messageId" in first) return messageResult(first);
  state.task = first;
  return taskResult(await poll(call, first, state));
}

/** `getTask` with capped exponential delays until the task settles; each status change is a progress message. */
async function poll(call: AgentCall, task: Task, state: CallState): Promise<Task> {
  let delay = POLL_MIN_MS;
  let seen = `${task.status?.state}:${task.status?.timestamp}`;
  while (!isSettled(task.status?.state)) {
    await abortableDelay(delay, call.signal);
    delay = Math.min(delay * 2, POLL_MAX_MS);
    task = await call.client.getTask({ tenant: "", id: task.id }, { signal: call.signal });
    state.task = task;
    const now = `${task.status?.state}:${task.status?.timestamp}`;
    if (now !== seen) report(call, state, messageText(task.status?.message) || stateName(task.status?.state));
    seen = now;
  }
  return task;
}

/** Best effort: the caller is gone, so the agent should stop working on its task. */
async function cancel(call: AgentCall, task: Task | undefined): Promise<void> {
  if (!task || isTerminal(task.status?.state)) return;
  try {
    await call.client.cancelTask({ tenant: "", id: task.id, metadata: undefined }, { signal: AbortSignal.timeout(CANCEL_TIMEOUT_MS) });
    call.log.debug(`canceled task ${task.id}`);
  } catch (error) {
    call.log.debug(`could not cancel task ${task.id}: ${describeError(error)}`);
  }
}

function report(call: AgentCall, state: CallState, message: string): void {
  call.onProgress?.({ progress: ++state.progress, ...(message ? { message } : {}) });
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
