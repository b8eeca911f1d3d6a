import type { StandardSchemaV1 } from "@modelcontextprotocol/server";

/**
 * A Standard Schema that accepts any value unchanged. The gateway forwards upstream results
 * without re-validating them (one parse per hop) and without dropping unknown fields.
 */
export const passthroughSchema: StandardSchemaV1<unknown, Record<string, unknown>> = {
  "~standard": {
    version: 1,
    vendor: "mcp-gateway",
    validate: (value) => ({ value: value as Record<string, unknown> }),
  },
};
