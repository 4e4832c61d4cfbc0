import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { configTable, envExample, readmeTable } from "../../src/config/docs.js";
import { loadConfig, parseConfig, parseEnvFile } from "../../src/config/index.js";
import { VARIABLES } from "../../src/config/schema.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const README = readFileSync(path.join(ROOT, "README.md"), "utf8");
const ENV_EXAMPLE = readFileSync(path.join(ROOT, ".env.example"), "utf8");
const FIX = "run `npx tsx src/config/print-docs.ts --write` after changing src/config/schema.ts";

const sorted = (names: Iterable<string>) => [...new Set(names)].sort();
const SCHEMA = sorted(Object.keys(VARIABLES));

/** The variables named in the first column of the README's configuration table. */
function readmeNames(): string[] {
  const rows = readmeTable(README).split("\n").slice(2);
  return sorted(
    rows.flatMap((row) => [...(row.split("|")[1] ?? "").matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1] ?? "")),
  );
}

/** The variables .env.example sets or shows commented out. */
function envExampleNames(): string[] {
  return sorted([...ENV_EXAMPLE.matchAll(/^(?:# )?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] ?? ""));
}

describe("configuration docs", () => {
  it("the README table lists exactly the schema's variables", () => {
    expect(readmeNames(), FIX).toEqual(SCHEMA);
  });

  it(".env.example lists exactly the schema's variables", () => {
    expect(envExampleNames(), FIX).toEqual(SCHEMA);
  });

  it("both say what the schema says (doc line, default)", () => {
    expect(readmeTable(README), FIX).toBe(configTable());
    expect(ENV_EXAMPLE, FIX).toBe(envExample());
  });

  it(".env.example is a valid .env that sets only defaults", () => {
    const parsed = parseEnvFile(ENV_EXAMPLE);
    expect(parsed.problems).toEqual([]);
    expect(loadConfig({}, path.join(ROOT, ".env.example"))).toEqual(parseConfig({}));
  });
});
