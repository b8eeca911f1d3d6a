import type { Transport } from "@modelcontextprotocol/client";

/**
 * The SDK's protocol layer runs notification handlers one microtask late but handles a response at once, and the
 * response removes the request's progress handler: the last `notifications/progress` of a call, arriving with its
 * result, would be dropped. Delivering responses one microtask later keeps the wire order for the handlers.
 * Call after `client.connect(transport)` (which installs `onmessage`).
 */
export function deliverResponsesAfterNotifications(transport: Transport): void {
  const deliver = transport.onmessage;
  if (!deliver) return;
  transport.onmessage = (message, extra) => {
    if ("id" in message && ("result" in message || "error" in message)) queueMicrotask(() => deliver.call(transport, message, extra));
    else deliver.call(transport, message, extra);
  };
}
