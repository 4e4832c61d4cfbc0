#!/usr/bin/env node
// Entry point for `npx anteroom` and `npm start`: runs the TypeScript sources through tsx, so a checkout
// works without a build step. A built image runs `node dist/main.js` instead (same commands).
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { register } from "tsx/esm/api";

register();
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
await import(pathToFileURL(join(root, "src", "main.ts")).href);
