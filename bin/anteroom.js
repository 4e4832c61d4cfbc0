#!/usr/bin/env node
// Entry point for `npx anteroom` and `npm start`. Runs the TypeScript sources through tsx, so a checkout
// works without a build step; `npm run build` output (dist/) is used instead when it exists.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const built = join(root, "dist", "cli.js");
let cli;
if (existsSync(built)) {
  cli = await import(pathToFileURL(built).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  cli = await import(pathToFileURL(join(root, "src", "cli.ts")).href);
}
const code = await cli.main(process.argv.slice(2), process.env);
if (code >= 0) process.exit(code);
