/**
 * Compile-time proof for `defineRestTools<paths>()` (checked by `tsc --noEmit` in `npm test`): the valid
 * mappings compile, and every `@ts-expect-error` line below fails to compile without the directive.
 */
import { defineRestTools } from "../../../src/upstreams/rest/define.ts";
import type { paths } from "../../../examples/rest/weather-api.d.ts";

export const valid = defineRestTools<paths>({
  forecast: { operation: "GET /forecast/{city}", query: ["days"], headers: ["X-Units"], timeout: 5000 },
  alert: { operation: "POST /alerts", body: true, idempotent: true },
  reset: { operation: "DELETE /admin/reset", retries: false },
});

export const unknownOperation = defineRestTools<paths>({
  // @ts-expect-error no such operation (the API has no GET /alerts)
  list: { operation: "GET /alerts" },
});

export const unknownPath = defineRestTools<paths>({
  // @ts-expect-error no such path
  weather: { operation: "GET /weather/{city}" },
});

export const unknownQuery = defineRestTools<paths>({
  // @ts-expect-error "hours" is not a query parameter of getForecast
  forecast: { operation: "GET /forecast/{city}", query: ["hours"] },
});

export const unknownHeader = defineRestTools<paths>({
  // @ts-expect-error "X-Lang" is not a header parameter of getForecast
  forecast: { operation: "GET /forecast/{city}", headers: ["X-Lang"] },
});

export const bodyWithoutRequestBody = defineRestTools<paths>({
  // @ts-expect-error getForecast takes no request body
  forecast: { operation: "GET /forecast/{city}", body: true },
});

export const queryOnOperationWithoutQuery = defineRestTools<paths>({
  // @ts-expect-error createAlert has no query parameters
  alert: { operation: "POST /alerts", query: ["days"] },
});
