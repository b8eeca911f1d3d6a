import { GatewayError, JsonRpcCode } from "../errors.ts";

/** Opaque cursor for merged lists: base64url of `o:<offset>`. */
export function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`).toString("base64url");
}

function decodeCursor(cursor: unknown): number {
  if (cursor === undefined || cursor === null || cursor === "") return 0;
  const text = typeof cursor === "string" ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  const match = /^o:(\d{1,9})$/.exec(text);
  if (!match) throw new GatewayError("BAD_REQUEST", "Invalid cursor", { status: 400, rpcCode: JsonRpcCode.InvalidParams });
  return Number(match[1]);
}

/** One page of `all` starting at `cursor`, and the cursor of the next page when there is one. */
export function paginate<T>(all: readonly T[], cursor: unknown, pageSize: number): { items: T[]; nextCursor?: string } {
  const offset = decodeCursor(cursor);
  const end = offset + pageSize;
  const items = all.slice(offset, end);
  return end < all.length ? { items, nextCursor: encodeCursor(end) } : { items };
}
