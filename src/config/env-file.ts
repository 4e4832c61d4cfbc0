import { readFileSync } from "node:fs";
import { parseConfig } from "./parse.js";
import type { Config, Env } from "./types.js";

/**
 * The .env file, in the format of Node's `process.loadEnvFile` and dotenv: `NAME=value` lines, an optional
 * `export ` in front, `#` comments (also after an unquoted value: quote a value holding `#`), values in
 * single, double or back quotes (which may span lines; `\n` in double quotes is a newline). Unlike those, a
 * line that is none of this is reported, by number, instead of skipped.
 */
export interface EnvFile {
  values: Record<string, string>;
  problems: string[];
}

const ASSIGNMENT = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/;
const QUOTES = ["'", '"', "`"];

export function parseEnvFile(text: string, label = ".env"): EnvFile {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const values: Record<string, string> = {};
  const problems: string[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? "";
    const number = index + 1;
    if (line.trim() === "" || line.trim().startsWith("#")) continue;
    const match = ASSIGNMENT.exec(line);
    const [name, rest] = [match?.[1], match?.[2]];
    if (name === undefined || rest === undefined) {
      // The line itself may hold a secret: name it by number only.
      problems.push(`${label} line ${number}: expected NAME=value`);
      continue;
    }
    const quote = rest[0];
    if (quote === undefined || !QUOTES.includes(quote)) {
      values[name] = rest.split("#")[0]?.trim() ?? "";
      continue;
    }
    // A quoted value runs to the matching quote, on this line or a later one.
    let body = rest.slice(1);
    let end = body.indexOf(quote);
    let last = index;
    while (end < 0 && last + 1 < lines.length) {
      last++;
      body += `\n${lines[last] ?? ""}`;
      end = body.indexOf(quote);
    }
    if (end < 0) {
      problems.push(`${label} line ${number}: ${name}'s ${quote} quote is never closed`);
      break;
    }
    const after = body.slice(end + 1).trim();
    if (after !== "" && !after.startsWith("#")) {
      problems.push(`${label} line ${last + 1}: unexpected text after ${name}'s closing quote`);
    }
    const value = body.slice(0, end);
    values[name] = quote === '"' ? value.replaceAll("\\n", "\n") : value;
    index = last;
  }
  return { values, problems };
}

/** The file's settings, or none when it does not exist. */
export function readEnvFile(file: string): EnvFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { values: {}, problems: [] };
    return { values: {}, problems: [`cannot read ${file}: ${(error as Error).message}`] };
  }
  return parseEnvFile(text, file);
}

/**
 * The environment over the .env file: a variable set in the real environment (even to "") wins, so a
 * deployment can override any line of the file without editing it.
 */
export function withEnvFile(env: Env, file: EnvFile): Env {
  const merged: Record<string, string | undefined> = { ...file.values };
  for (const [name, value] of Object.entries(env)) if (value !== undefined) merged[name] = value;
  return merged;
}

/** parseConfig over the environment and, when given and present, a .env file; its problems come first. */
export function loadConfig(env: Env, envFile?: string): Config {
  if (envFile === undefined) return parseConfig(env);
  const file = readEnvFile(envFile);
  return parseConfig(withEnvFile(env, file), file.problems);
}
