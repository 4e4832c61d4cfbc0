import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { configTable, envExample, replaceTable } from "./docs.js";

/**
 * A development script, not part of the service: prints the README configuration table and .env.example as
 * the schema has them, or with --write rewrites both in the repository.
 *
 *   npx tsx src/config/print-docs.ts [--write]
 */
const root = path.resolve(import.meta.dirname, "../..");
if (process.argv.includes("--write")) {
  const readme = path.join(root, "README.md");
  writeFileSync(readme, replaceTable(readFileSync(readme, "utf8"), configTable()));
  writeFileSync(path.join(root, ".env.example"), envExample());
  process.stdout.write("wrote README.md (configuration table) and .env.example\n");
} else {
  process.stdout.write(`${configTable()}\n\n${envExample()}`);
}
