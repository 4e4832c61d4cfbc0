// Child processes and temp dirs of the bench. Every child and temp dir is registered here so that it is
// killed / removed however the bench ends: normal return, exception, signal, or the watchdog.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const HOST = "127.0.0.1";

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

export function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** SIGKILLs every live child and removes every temp dir. Synchronous, so it works in an exit handler. */
export function killEverythingNow(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Cleans up on process exit and on SIGINT/SIGTERM/SIGHUP. Call once, first thing. */
export function installCleanup(): void {
  process.on("exit", killEverythingNow);
  const codes = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
  for (const [signal, code] of Object.entries(codes)) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping children\n`);
      killEverythingNow();
      process.exit(code);
    });
  }
}

/** Whatever happens, the bench ends: after `ms` every child is killed and the bench exits with 1. */
export function startWatchdog(ms: number): void {
  setTimeout(() => {
    log(`still running after ${Math.round(ms / 1000)} s; giving up`);
    killEverythingNow();
    process.exit(1);
  }, ms).unref();
}

export interface TempDir {
  path: string;
  remove(): void;
}

export function makeTempDir(prefix: string): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(path);
  return {
    path,
    remove: () => {
      rmSync(path, { recursive: true, force: true });
      tempDirs.delete(path);
    },
  };
}

export interface Child {
  process: ChildProcess;
  name: string;
  /** The last lines the child wrote, for error messages. */
  tail(): string;
  /** Resolves with the exit code (or signal) once the child has exited. */
  exited: Promise<string>;
}

/** Spawns `node <args>` (or `command <args>`) in the repository root; output is kept as a short tail. */
export function startChild(
  name: string,
  args: string[],
  env: Record<string, string>,
  command: string = process.execPath,
  options: { ipc?: boolean } = {},
): Child {
  const stdio: ("ignore" | "pipe" | "ipc")[] = ["ignore", "pipe", "pipe"];
  if (options.ipc === true) stdio.push("ipc"); // a node child (through `sh -c exec` too) talks over it
  const child = spawn(command, args, { cwd: ROOT, env, stdio });
  children.add(child);
  const lines: string[] = [];
  const keep = (chunk: Buffer): void => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      lines.push(line);
      if (lines.length > 40) lines.shift();
    }
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => {
      children.delete(child);
      resolve(signal ?? `exit code ${code}`);
    });
    child.once("error", (error) => {
      children.delete(child);
      resolve(`spawn error: ${error.message}`);
    });
  });
  return { process: child, name, tail: () => lines.join("\n"), exited };
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the child has exited. */
export async function stopChild(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill("SIGTERM");
  const timer = setTimeout(() => child.process.kill("SIGKILL"), 5_000);
  await child.exited;
  clearTimeout(timer);
}

/** Waits for the child to exit by itself, SIGKILLing it after `timeoutMs`. */
export async function awaitExit(child: Child, timeoutMs: number): Promise<string> {
  const timer = setTimeout(() => child.process.kill("SIGKILL"), timeoutMs);
  try {
    return await child.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Environment for a child: only what it needs, so a stray DB_URL or REDIS_URL cannot leak in. */
export function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ["PATH", "HOME", "TMPDIR", "LANG", "TZ"]) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, ...extra };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}

/** Polls url until it answers 200; fails early if the child exits. */
export async function waitReady(child: Child, url: string, timeoutMs: number): Promise<void> {
  let exit: string | undefined;
  void child.exited.then((how) => {
    exit = how;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exit !== undefined) {
      throw new Error(`${child.name} exited during startup (${exit}):\n${child.tail()}`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${child.name} did not answer ${url} within ${timeoutMs} ms:\n${child.tail()}`);
}
