import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const BIN = path.join(ROOT, "bin", "anteroom.js");

/** Environment for a child process: only what the test gives, plus PATH/HOME so Node runs. */
export function childEnv(env: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = {};
  for (const key of ["PATH", "HOME", "TMPDIR"]) {
    const value = process.env[key];
    if (value !== undefined) base[key] = value;
  }
  return { ...base, LOG_LEVEL: "warn", ...env };
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options for a child process: `cwd` is where it starts (and looks for `.env`), the repository by default. */
export interface ChildOptions {
  cwd?: string;
}

export async function runCli(
  args: string[],
  env: Record<string, string>,
  input?: string,
  options: ChildOptions = {},
): Promise<Finished> {
  const child = spawn(process.execPath, [BIN, ...args], { env: childEnv(env), cwd: options.cwd ?? ROOT });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin.end(input ?? "");
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Starts `anteroom <args>` and resolves once GET /healthz answers on the given port. */
export async function startServer(
  args: string[],
  env: Record<string, string>,
  port: number,
  options: ChildOptions = {},
): Promise<{ child: ChildProcess; output: () => string; url: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: childEnv({ ...env, PORT: String(port) }),
    cwd: options.cwd ?? ROOT,
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited early (${child.exitCode}):\n${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { child, output: () => output, url };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`server did not become healthy:\n${output}`);
}
