import type { JSONRPCMessage, Transport } from "@modelcontextprotocol/server";

/** A JSON-RPC message as the bridge looks at it (request, notification or response). */
export type BridgeMessage = JSONRPCMessage & {
  id?: string | number | null;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message?: string };
};

const REPLAY_PREFIX = "mcp-gateway-bridge-reinit-";

/** Whether a remote message answers a replayed `initialize` (the client already has its own answer). */
export function isReplayAnswer(message: BridgeMessage): boolean {
  return typeof message.id === "string" && message.id.startsWith(REPLAY_PREFIX);
}

/**
 * Replays the client's `initialize` and `notifications/initialized` on a fresh connection; resolves with the
 * remote's capabilities. Messages other than the answer keep flowing to the transport's `onmessage`.
 */
export async function reinitialize(transport: Transport, initialize: BridgeMessage, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  const id = `${REPLAY_PREFIX}${Date.now()}`;
  const forward = transport.onmessage;
  let timer: NodeJS.Timeout | undefined;
  const answered = new Promise<BridgeMessage>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer to initialize within ${timeoutMs} ms`)), timeoutMs);
    transport.onmessage = (message, extra) => {
      if ((message as BridgeMessage).id === id) resolve(message as BridgeMessage);
      else forward?.(message, extra);
    };
  });
  try {
    await transport.send({ ...initialize, id } as JSONRPCMessage);
    const answer = await answered;
    if (!answer.result) throw new Error(`initialize refused: ${answer.error?.message ?? "no result"}`);
    const version = answer.result.protocolVersion;
    if (typeof version === "string") transport.setProtocolVersion?.(version);
    await transport.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    return (answer.result.capabilities as Record<string, unknown> | undefined) ?? {};
  } finally {
    clearTimeout(timer);
    transport.onmessage = forward;
  }
}

/**
 * Renews the client's resource subscriptions on a fresh connection (the remote forgot them with the session). The
 * answers carry replay ids, so the bridge drops them like the replayed `initialize`'s; a refusal only loses that URI.
 */
export async function resubscribe(transport: Transport, uris: Iterable<string>): Promise<void> {
  let n = 0;
  for (const uri of uris) {
    await transport.send({ jsonrpc: "2.0", id: `${REPLAY_PREFIX}subscribe-${n++}`, method: "resources/subscribe", params: { uri } }).catch(() => {});
  }
}

/** The `list_changed` notifications that make a client refetch what a (re)connected remote offers. */
export function listChangedNotifications(capabilities: Record<string, unknown>): JSONRPCMessage[] {
  return (["tools", "prompts", "resources"] as const)
    .filter((kind) => capabilities[kind] !== undefined)
    .map((kind) => ({ jsonrpc: "2.0", method: `notifications/${kind}/list_changed` }));
}
