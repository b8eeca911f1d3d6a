#!/usr/bin/env node
// Runs the TypeScript sources directly through jiti: no build step after `npm ci`.
import { createJiti } from "jiti";

const jiti = createJiti(import.meta.url);
const { run } = await jiti.import("../src/cli/index.ts");
await run();
