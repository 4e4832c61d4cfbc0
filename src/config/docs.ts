import { VARIABLES } from "./schema.js";
import type { Variable } from "./variables.js";

/**
 * The README's configuration table and .env.example, written from the schema so they list exactly what is
 * read (test/unit/config-docs.test.ts holds them to it; `npx tsx src/config/print-docs.ts --write`
 * rewrites both).
 */

const entries = (): [string, Variable<unknown>][] => Object.entries(VARIABLES);

export const TABLE_HEADER = "| Variable | Meaning | Default |";

export function configTable(): string {
  const rows = entries().map(([name, v]) => `| \`${name}\` | ${v.doc} | ${v.shown} |`);
  return [TABLE_HEADER, "|---|---|---|", ...rows].join("\n");
}

/** Markdown to plain text for comments: links keep their words, code loses its backticks. */
function plain(markdown: string): string {
  return markdown.replace(/\[([^\]]+)\]\([^)]+\)/g, "$1").replaceAll("`", "");
}

/** Wraps a comment at 110 columns, the code's line width. */
function comment(text: string): string[] {
  const lines: string[] = [];
  let line = "#";
  for (const word of text.split(" ")) {
    if (line.length + word.length + 1 > 110 && line !== "#") {
      lines.push(line);
      line = "#";
    }
    line += ` ${word}`;
  }
  return [...lines, line];
}

export function envExample(): string {
  const out = [
    "# Anteroom settings. Copy to .env (cp .env.example .env) and edit: `anteroom` reads .env from the",
    "# directory it starts in, and a variable set in the real environment wins over this file. Lines with a",
    "# value show the default; commented ones are unset by default. Generated from src/config/schema.ts",
    "# (npx tsx src/config/print-docs.ts --write).",
  ];
  let group = "";
  for (const [name, v] of entries()) {
    if (v.group !== group) {
      group = v.group;
      out.push("", `# ── ${group} ──`);
    }
    // A commented-out line says what happens when it stays unset, unless that is plain "unset".
    const shown = plain(v.shown);
    const unset = shown === "unset" ? "" : shown.startsWith("unset") ? ` (${shown})` : ` (unset: ${shown})`;
    out.push(...comment(`${plain(v.doc)}${v.example === undefined ? unset : ""}`));
    out.push(v.example === undefined ? `# ${name}=${v.sample ?? ""}` : `${name}=${v.example}`);
  }
  return `${out.join("\n")}\n`;
}

/** Where the configuration table is in the README: from its header to the first line not in the table. */
function tableSpan(readme: string): { lines: string[]; start: number; end: number } {
  const lines = readme.split("\n");
  const section = lines.indexOf("## Configuration");
  const start = lines.indexOf(TABLE_HEADER, section);
  if (section < 0 || start < 0) throw new Error(`README.md: no "${TABLE_HEADER}" under "## Configuration"`);
  let end = start;
  while (lines[end]?.startsWith("|")) end++;
  return { lines, start, end };
}

/** The README's configuration table as it stands. */
export function readmeTable(readme: string): string {
  const { lines, start, end } = tableSpan(readme);
  return lines.slice(start, end).join("\n");
}

export function replaceTable(readme: string, table: string): string {
  const { lines, start, end } = tableSpan(readme);
  return [...lines.slice(0, start), table, ...lines.slice(end)].join("\n");
}
