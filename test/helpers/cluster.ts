import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import pg from "pg";
import { BIN, childEnv, freePort, ROOT, runCli } from "./process.js";

/**
 * A production deployment on this machine's loopback, for multi-process and fault tests: a PostgreSQL
 * database of its own, a private redis-server that tests may flush, stop and restart, and any number of
 * API and worker child processes. Everything is stopped by `stop()`, and killed if the test process dies.
 */
const SECRET_KEY = "cluster-test-secret-key-0123456789abcdef";
export const CLUSTER_ADMIN = { email: "admin@cluster.test", password: "cluster-admin-password" };

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

export class PrivateRedis {
  private child: ChildProcess | undefined;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = track(
      spawn(
        "redis-server",
        ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        {
          stdio: "ignore",
        },
      ),
    );
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((resolve) => {
        const probe = spawn("redis-cli", ["-p", String(this.port), "ping"], {
          stdio: ["ignore", "pipe", "ignore"],
        });
        let out = "";
        probe.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
        });
        probe.on("exit", () => resolve(out.includes("PONG")));
      });
      if (ok) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server did not start on ${this.port}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null) return;
    child.kill("SIGKILL");
    await once(child, "exit");
    this.child = undefined;
  }

  async flush(): Promise<void> {
    await new Promise<void>((resolve) => {
      spawn("redis-cli", ["-p", String(this.port), "flushall"], { stdio: "ignore" }).on("exit", () =>
        resolve(),
      );
    });
  }
}

/** A fresh database on the given server; returns its URL and a function that drops it. */
export async function createDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `anteroom_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

export interface Member {
  child: ChildProcess;
  url: string;
  output(): string;
}

const UNLIMITED = Object.fromEntries(
  [
    "RATE_LIMIT_STATUS_PER_SECOND",
    "RATE_LIMIT_JOINS_PER_SECOND",
    "RATE_LIMIT_CANCELS_PER_SECOND",
    "RATE_LIMIT_ADMISSION_CHECKS_PER_SECOND",
    "RATE_LIMIT_ADMIN_PER_SECOND",
    "RATE_LIMIT_KEY_FAILURES_PER_MINUTE",
  ].map((name) => [name, "1000000"]),
);

export interface ClusterOptions {
  dbUrl: string;
  redisUrl: string;
  env?: Record<string, string>;
}

async function waitHealthy(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited early (${child.exitCode}):\n${output()}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`process did not become healthy:\n${output()}`);
}

export class Cluster {
  readonly apis: Member[] = [];
  readonly workers: Member[] = [];

  constructor(private readonly options: ClusterOptions) {}

  private env(extra: Record<string, string>): Record<string, string> {
    return childEnv({
      DB_URL: this.options.dbUrl,
      REDIS_URL: this.options.redisUrl,
      SECRET_KEY,
      ADMIN_EMAIL: CLUSTER_ADMIN.email,
      ADMIN_PASSWORD: CLUSTER_ADMIN.password,
      ALLOW_PRIVATE_CALLBACKS: "true",
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      // All the load comes from one address: rate limits high enough never to bind (rate-limit tests
      // live in test/http and test/production/shared-rate-counts.test.ts).
      ...UNLIMITED,
      ...this.options.env,
      ...extra,
    });
  }

  async migrate(): Promise<void> {
    const result = await runCli(["migrate"], this.env({}));
    if (result.code !== 0) throw new Error(`migrate failed: ${result.stderr}`);
  }

  private async launch(command: "serve" | "worker"): Promise<Member> {
    const port = await freePort();
    const extra: Record<string, string> =
      command === "serve" ? { PORT: String(port) } : { WORKER_PORT: String(port), PORT: "0" };
    const child = track(spawn(process.execPath, [BIN, command], { env: this.env(extra), cwd: ROOT }));
    let output = "";
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    const member = { child, url: `http://127.0.0.1:${port}`, output: () => output };
    await waitHealthy(member.url, child, member.output);
    return member;
  }

  async addApi(): Promise<Member> {
    const member = await this.launch("serve");
    this.apis.push(member);
    return member;
  }

  async addWorker(): Promise<Member> {
    const member = await this.launch("worker");
    this.workers.push(member);
    return member;
  }

  /** Stops the workers (SIGTERM, waiting for them), so the record stops changing. */
  async stopWorkers(): Promise<void> {
    await Cluster.terminate(this.workers);
  }

  async stop(): Promise<void> {
    await Cluster.terminate([...this.apis, ...this.workers]);
  }

  private static async terminate(members: Member[]): Promise<void> {
    await Promise.all(
      members.map(async (member) => {
        if (member.child.exitCode !== null || member.child.signalCode !== null) return;
        member.child.kill("SIGTERM");
        const timer = setTimeout(() => member.child.kill("SIGKILL"), 10_000);
        await once(member.child, "exit");
        clearTimeout(timer);
      }),
    );
  }
}

/** Logs in and creates an application and a queue through the given API; returns what tests need. */
export async function createSiteVia(
  api: string,
  queue: Record<string, unknown>,
  application: Record<string, unknown>,
): Promise<{ token: string; appId: string; apiKey: string; queueId: string }> {
  const login = await fetch(`${api}/auth/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "password",
      username: CLUSTER_ADMIN.email,
      password: CLUSTER_ADMIN.password,
    }),
  });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${await login.text()}`);
  const { access_token: token } = (await login.json()) as { access_token: string };
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const post = async <T>(path: string, body: Record<string, unknown>): Promise<T> => {
    const response = await fetch(`${api}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
    if (response.status !== 201) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const app = await post<{ id: string; api_key: string }>("/applications/", {
    name: "Cluster shop",
    domain: "shop.example.com",
    callback_url: "http://127.0.0.1:9/cb",
    ...application,
  });
  const created = await post<{ id: string }>("/queues/", {
    application_id: app.id,
    name: "Drop",
    max_users_per_minute: 60,
    ...queue,
  });
  return { token, appId: app.id, apiKey: app.api_key, queueId: created.id };
}

export { freePort };
