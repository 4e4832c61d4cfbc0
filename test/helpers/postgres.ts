import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort } from "./process.js";

/**
 * PostgreSQL for tests, real and never mocked: DB_URL when set, else the local server on the default port,
 * else a private temporary cluster when the binaries exist. With none, tests skip loudly; under CI=true
 * they fail instead, because CI must never skip them.
 */
const DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/test";

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export function postgresBinaries(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort();
  const latest = versions.at(-1);
  return latest === undefined ? undefined : path.join(root, latest, "bin");
}

export interface TempCluster {
  url: string;
  port: number;
  stop(mode?: "fast" | "immediate"): void;
  start(): Promise<void>;
  destroy(): void;
}

/** A throwaway PostgreSQL cluster on a free port (as the postgres user when run as root). */
export async function startTempCluster(): Promise<TempCluster> {
  const bin = postgresBinaries();
  if (bin === undefined) throw new Error("PostgreSQL binaries not found");
  const dir = mkdtempSync(path.join(tmpdir(), "anteroom-pg-"));
  const data = path.join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const run = (command: string, args: string[]) =>
    asRoot
      ? execFileSync("runuser", ["-u", "postgres", "--", path.join(bin, command), ...args], { stdio: "pipe" })
      : execFileSync(path.join(bin, command), args, { stdio: "pipe" });
  if (asRoot) execFileSync("chown", ["postgres", dir]);
  run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  const port = await freePort();
  const cluster: TempCluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      run("pg_ctl", [
        "-D",
        data,
        "-l",
        path.join(dir, "log"),
        "-o",
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
        "-w",
        "start",
      ]);
      for (let i = 0; i < 50 && !(await answers(cluster.url)); i++)
        await new Promise((r) => setTimeout(r, 100));
    },
    stop(mode = "fast") {
      try {
        run("pg_ctl", ["-D", data, "-m", mode, "-w", "stop"]);
      } catch {
        // already stopped
      }
    },
    destroy() {
      cluster.stop("immediate");
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await cluster.start();
  process.once("exit", () => cluster.destroy());
  return cluster;
}

let shared: Promise<string | undefined> | undefined;

/** A reachable PostgreSQL URL, or undefined (skip) outside CI. */
export function postgresForTests(): Promise<string | undefined> {
  shared ??= (async () => {
    const configured = process.env.DB_URL;
    if (configured?.startsWith("postgres")) {
      if (await answers(configured)) return configured;
      throw new Error(`DB_URL is set but PostgreSQL does not answer at ${configured}`);
    }
    if (await answers(DEFAULT_URL)) return DEFAULT_URL;
    if (postgresBinaries() !== undefined) return (await startTempCluster()).url;
    if (process.env.CI === "true")
      throw new Error("PostgreSQL is required under CI=true and none was reachable");
    console.warn(
      "\n!!! PostgreSQL not reachable and no binaries to start one: PostgreSQL tests are SKIPPED !!!\n",
    );
    return undefined;
  })();
  return shared;
}

/** Runs a statement on a throwaway connection (schema setup and teardown). */
export async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
