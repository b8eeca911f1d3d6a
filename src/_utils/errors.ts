/** Short, safe description of an unknown thrown value: message only, never a stack. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.split("\n")[0]!.slice(0, 500);
  return String(error).slice(0, 500);
}
