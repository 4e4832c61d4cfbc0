import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "../..");

export const read = (file: string): string => readFileSync(path.join(ROOT, file), "utf8");

function installed(tool: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" }).status === 0;
}

/**
 * Whether a validator's tests run. Under CI=true they always do (.ci/services.sh installs the tools, and a
 * missing one fails the test rather than skipping it); elsewhere a missing tool skips them, loudly.
 */
export function haveTool(tool: string): boolean {
  if (installed(tool)) return true;
  if (process.env.CI === "true") return true;
  console.warn(
    `\n!!! ${tool} is not installed: its deployment checks are SKIPPED (bash .ci/services.sh installs it) !!!\n`,
  );
  return false;
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion (bounded in time) and returns its exit status and output. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: options.timeoutMs ?? 60_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A temporary copy of the given repository files and folders. */
export function tempCopy(entries: readonly string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), "anteroom-deploy-"));
  for (const entry of entries) cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  return dir;
}
