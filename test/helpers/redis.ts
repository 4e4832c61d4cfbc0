import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { Socket } from "node:net";
import path from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./process.js";

/**
 * Redis for tests, real and never mocked: REDIS_URL when set, else the local server on the default port,
 * else a private server on a free port when `redis-server` is installed. With none, tests skip loudly;
 * under CI=true they fail instead, because CI must never skip them. Tests never flush a server: each one
 * isolates itself with its own queue ids (or key prefix).
 */
const DEFAULT_URL = "redis://127.0.0.1:6379";

async function answers(url: string): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on("error", () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

function redisServerBinary(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "redis-server");
    if (dir !== "" && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * A throwaway redis-server without persistence. It runs under a shell that kills it when our end of its
 * stdin closes, which the OS does when this process ends, however it ends (even SIGKILL): no exit hook
 * to miss.
 */
async function startPrivateServer(binary: string): Promise<string> {
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const child = spawn("sh", ["-c", '"$0" "$@" & pid=$!; read _; kill $pid', binary, ...args], {
    stdio: ["pipe", "ignore", "ignore"],
  });
  // Neither the child nor the pipe that ties its life to ours keeps this process running.
  child.unref();
  if (child.stdin instanceof Socket) child.stdin.unref();
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i++) {
    if (await answers(url)) return url;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.stdin?.destroy();
  throw new Error(`redis-server did not answer on port ${port}`);
}

let shared: Promise<string | undefined> | undefined;

function redisUrl(): Promise<string | undefined> {
  shared ??= (async () => {
    const configured = process.env.REDIS_URL;
    if (configured !== undefined && configured !== "") {
      if (await answers(configured)) return configured;
      throw new Error(`REDIS_URL is set but Redis does not answer at ${configured}`);
    }
    if (await answers(DEFAULT_URL)) return DEFAULT_URL;
    const binary = redisServerBinary();
    if (binary !== undefined) return startPrivateServer(binary);
    if (process.env.CI === "true") {
      throw new Error(
        "Redis is required under CI=true: REDIS_URL unset, none on 6379, no redis-server binary",
      );
    }
    console.warn(
      "\n!!! Redis not reachable (REDIS_URL unset, nothing on 127.0.0.1:6379, no redis-server binary): " +
        "Redis tests are SKIPPED !!!\n",
    );
    return undefined;
  })();
  return shared;
}

/**
 * A reachable Redis, or undefined (skip) outside CI. The client is new for each call and the caller's to
 * disconnect; it connects on first use, so a caller that only wants the URL opens nothing.
 */
export async function redisForTests(): Promise<{ redis: Redis; url: string } | undefined> {
  const url = await redisUrl();
  if (url === undefined) return undefined;
  return { redis: new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 }), url };
}
