import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * The import rules of docs/architecture.md, read off the source: each module's imports (type-only ones
 * included: they are dependencies of the design, if not of the running code).
 */
const SRC = path.resolve(import.meta.dirname, "../../src");

interface Module {
  /** Path relative to src/, e.g. "domain/gcra.ts". */
  file: string;
  /** The part: the folder under src/, or the file itself at the top ("app.ts"). */
  part: string;
  /** Other modules of src/ it imports (relative to src/). */
  local: string[];
  /** Packages and node: modules it imports. */
  external: string[];
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

function partOf(file: string): string {
  const [first = file, ...rest] = file.split("/");
  return rest.length === 0 ? first : first;
}

const modules: Module[] = sources(SRC).map((full) => {
  const file = path.relative(SRC, full);
  const { importedFiles } = ts.preProcessFile(readFileSync(full, "utf8"), true, true);
  const local: string[] = [];
  const external: string[] = [];
  for (const { fileName } of importedFiles) {
    if (fileName.startsWith(".")) {
      local.push(path.relative(SRC, path.resolve(path.dirname(full), fileName)).replace(/\.js$/, ".ts"));
    } else {
      external.push(fileName);
    }
  }
  return { file, part: partOf(file), local, external };
});
const byFile = new Map(modules.map((module) => [module.file, module]));

/** Every module `file` reaches through local imports, itself excluded. */
function reachable(file: string): Set<string> {
  const seen = new Set<string>();
  const pending = [...(byFile.get(file)?.local ?? [])];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (seen.has(next)) continue;
    seen.add(next);
    pending.push(...(byFile.get(next)?.local ?? []));
  }
  return seen;
}

const IO =
  /^(node:(fs|net|dns|http|https|http2|child_process|dgram|tls)(\/.*)?|pg|ioredis|better-sqlite3|undici|kysely|fastify)$/;

describe("import rules", () => {
  it("finds the source", () => {
    expect(modules.length).toBeGreaterThan(50);
    for (const module of modules)
      for (const target of module.local) expect(byFile.has(target), `${module.file} → ${target}`).toBe(true);
  });

  it("domain/ is pure: it imports only domain/, no I/O module and nothing from config", () => {
    const offences = modules
      .filter((module) => module.part === "domain")
      .flatMap((module) => [
        ...module.local
          .filter((target) => partOf(target) !== "domain")
          .map((target) => `${module.file} → ${target}`),
        ...module.external.filter((name) => IO.test(name)).map((name) => `${module.file} → ${name}`),
      ]);
    expect(offences).toEqual([]);
  });

  it.each([
    ["http", "worker"],
    ["store", "index"],
    ["index", "store"],
    ["services", "worker"],
    ["services", "http"],
    ["worker", "http"],
  ])("%s/ never imports %s/", (from, to) => {
    const offences = modules
      .filter((module) => module.part === from)
      .flatMap((module) =>
        module.local.filter((target) => partOf(target) === to).map((t) => `${module.file} → ${t}`),
      );
    expect(offences).toEqual([]);
  });

  it("only start/ and main.ts read the configuration", () => {
    const offences = modules
      .filter((module) => !["start", "main.ts", "config.ts", "config"].includes(module.part))
      .flatMap((module) =>
        module.local
          .filter((target) => target === "config.ts" || target.startsWith("config/"))
          .map((target) => `${module.file} → ${target}`),
      );
    expect(offences).toEqual([]);
  });

  it("has no cycle between parts", () => {
    const edges = new Map<string, Set<string>>();
    for (const module of modules) {
      for (const target of module.local) {
        const to = partOf(target);
        if (to === module.part) continue;
        const set = edges.get(module.part) ?? new Set<string>();
        set.add(to);
        edges.set(module.part, set);
      }
    }
    const cycles: string[] = [];
    for (const [from, targets] of edges) {
      for (const to of targets) {
        // a cycle through this edge: `from` is reachable back from `to`
        const seen = new Set<string>();
        const pending = [to];
        for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
          if (next === from) {
            cycles.push(`${from} → ${to} → … → ${from}`);
            break;
          }
          if (seen.has(next)) continue;
          seen.add(next);
          pending.push(...(edges.get(next) ?? []));
        }
      }
    }
    expect(cycles).toEqual([]);
  });

  it("keeps the visitor hot path free of the worker", () => {
    const hot = ["http/fast-status.ts", "http/routes/visitor.ts", "services/visitors.ts"];
    for (const file of hot) {
      expect(
        [...reachable(file)].filter((target) => partOf(target) === "worker"),
        file,
      ).toEqual([]);
    }
  });
});
