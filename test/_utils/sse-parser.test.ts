import { describe, expect, it } from "vitest";
import { SseParser, type SseEvent } from "../../src/_utils/sse-parser.ts";

function parse(chunks: string[]): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = new SseParser((e) => events.push(e));
  for (const chunk of chunks) parser.push(chunk);
  return events;
}

describe("SseParser", () => {
  it("parses events with event names, ids and multi-line data", () => {
    expect(parse(["event: message\nid: 7\ndata: {\"a\":1}\n\ndata: x\ndata: y\n\n"])).toEqual([
      { event: "message", id: "7", data: '{"a":1}' },
      { id: "7", data: "x\ny" },
    ]);
  });

  it("handles CRLF and CR line ends, also when split between chunks", () => {
    expect(parse(["data: a\r", "\n\r", "\ndata: b\r\r\n"])).toEqual([{ data: "a" }, { data: "b" }]);
  });

  it("ignores comments and keeps partial events until they complete", () => {
    const events = parse([": ping\n\n", "data: hel", "lo 漢🙂", "\n", "\n"]);
    expect(events).toEqual([{ data: "hello 漢🙂" }]);
  });

  it("does not emit an event whose data never arrived", () => {
    expect(parse(["event: endpoint\n\n"])).toEqual([]);
  });
});
