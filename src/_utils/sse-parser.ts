/** One server-sent event. */
export interface SseEvent {
  event?: string;
  data: string;
  id?: string;
}

/**
 * Incremental `text/event-stream` parser (WHATWG rules: `\n`, `\r\n` or `\r` line ends, multi-line `data`,
 * comments ignored). Feed decoded text chunks with `push`; each complete event is handed to `onEvent`.
 */
export class SseParser {
  #buffer = "";
  #data: string[] = [];
  #event?: string;
  #id?: string;
  readonly #onEvent: (event: SseEvent) => void;

  constructor(onEvent: (event: SseEvent) => void) {
    this.#onEvent = onEvent;
  }

  push(chunk: string): void {
    this.#buffer += chunk;
    let start = 0;
    for (;;) {
      const lf = this.#buffer.indexOf("\n", start);
      const cr = this.#buffer.indexOf("\r", start);
      let end: number;
      let next: number;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        // A lone CR at the end of the chunk may be the first half of CRLF: wait for more.
        if (cr === this.#buffer.length - 1) break;
        end = cr;
        next = this.#buffer[cr + 1] === "\n" ? cr + 2 : cr + 1;
      } else if (lf >= 0) {
        end = lf;
        next = lf + 1;
      } else {
        break;
      }
      this.#line(this.#buffer.slice(start, end));
      start = next;
    }
    this.#buffer = this.#buffer.slice(start);
  }

  #line(line: string): void {
    if (line === "") {
      if (this.#data.length > 0) {
        this.#onEvent({ data: this.#data.join("\n"), ...(this.#event ? { event: this.#event } : {}), ...(this.#id ? { id: this.#id } : {}) });
      }
      this.#data = [];
      this.#event = undefined;
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.#data.push(value);
    else if (field === "event") this.#event = value;
    else if (field === "id") this.#id = value;
  }
}
