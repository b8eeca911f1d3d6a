import { createConsola, type ConsolaInstance } from "consola";

/** The logger every gateway part receives; one instance per gateway (no globals). */
export type Logger = ConsolaInstance;

const LEVELS = { silent: -999, error: 0, warn: 1, info: 3, debug: 4 } as const;

/** Create a tagged logger writing to stderr, so stdout stays free for stdio protocols. */
export function createLogger(level: keyof typeof LEVELS = "info"): Logger {
  return createConsola({
    level: LEVELS[level],
    defaults: { tag: "gateway" },
    stdout: process.stderr,
    stderr: process.stderr,
  });
}
