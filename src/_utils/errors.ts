import { maskString } from "./mask.ts";

/** Short, safe description of an unknown thrown value: message only, never a stack, URL passwords and bearer tokens masked. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return maskString(error.message.split("\n")[0]!.slice(0, 500));
  return maskString(String(error).slice(0, 500));
}
