import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, runCli, startServer } from "../helpers/process.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "anteroom-cli-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function token(url: string, username: string, password: string): Promise<Response> {
  return fetch(`${url}/auth/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "password", username, password }),
  });
}

describe("anteroom CLI", () => {
  it("refuses to start on a bad value, naming the variable", async () => {
    const result = await runCli(["serve"], { DATA_DIR: tempDir(), PORT: "eighty", SMTP_PORT: "x" });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain("PORT must be an integer");
    expect(result.stderr).toContain("SMTP_PORT");
  });

  it("refuses to start on an empty or short generated secret key, saying what to do", async () => {
    for (const content of ["", "  \n", "0123456789abcdef"]) {
      const dataDir = tempDir();
      writeFileSync(path.join(dataDir, "secret.key"), content);
      const result = await runCli(["serve"], { DATA_DIR: dataDir, PORT: String(await freePort()) });
      expect(result.code).toBe(78);
      expect(result.stderr).toContain("secret.key");
      expect(result.stderr).toContain("at least 32 characters");
    }
  });

  it("serves /metrics only on METRICS_PORT when it is set, behind METRICS_TOKEN", async () => {
    const port = await freePort();
    const metricsPort = await freePort();
    const token = "a-metrics-token-of-some-length";
    const env = {
      DATA_DIR: tempDir(),
      HOST: "127.0.0.1",
      METRICS_PORT: String(metricsPort),
      METRICS_TOKEN: token,
    };
    const server = await startServer(["serve"], env, port);
    try {
      expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
      const metrics = `http://127.0.0.1:${metricsPort}/metrics`;
      expect((await fetch(metrics)).status).toBe(401);
      const scraped = await fetch(metrics, { headers: { authorization: `Bearer ${token}` } });
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain("queue_size");
    } finally {
      server.child.kill("SIGTERM");
      await once(server.child, "exit");
    }
  });

  it("reseals stored secrets under a new SECRET_KEY, and names what it cannot open", async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const server = await startServer(["serve"], { DATA_DIR: dataDir, HOST: "127.0.0.1" }, port);
    server.child.kill("SIGTERM");
    await once(server.child, "exit"); // it left a signing key sealed under the generated secret
    const generated = readFileSync(path.join(dataDir, "secret.key"), "utf8").trim();
    const rotated = { DATA_DIR: dataDir, SECRET_KEY: "r".repeat(40), SECRET_KEY_PREVIOUS: generated };
    const first = await runCli(["reseal"], rotated);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("resealed 1, already under SECRET_KEY 0");
    expect((await runCli(["reseal"], rotated)).stdout).toContain("resealed 0, already under SECRET_KEY 1");
    const wrong = await runCli(["reseal"], { DATA_DIR: dataDir, SECRET_KEY: "w".repeat(40) });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain("unreadable 1");
    expect(wrong.stderr).toContain("SECRET_KEY_PREVIOUS");
  });

  it("migrates, and reports an up-to-date schema the second time", async () => {
    const env = { DATA_DIR: tempDir() };
    const first = await runCli(["migrate"], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("applied: 001-initial");
    const second = await runCli(["migrate"], env);
    expect(second.stdout).toContain("schema is up to date");
  });

  it("creates a user from the command line who can then log in", async () => {
    const dataDir = tempDir();
    const created = await runCli(
      ["admin", "create-user", "--email", "ops@example.com", "--role", "operator", "--password-stdin"],
      { DATA_DIR: dataDir },
      "a-long-cli-password\n",
    );
    expect(created.code).toBe(0);
    expect(created.stdout).toContain("created operator ops@example.com");
    const again = await runCli(
      ["admin", "create-user", "--email", "ops@example.com", "--password", "another-password"],
      { DATA_DIR: dataDir },
    );
    expect(again.stdout).toContain("already exists");
    const port = await freePort();
    const server = await startServer(["serve"], { DATA_DIR: dataDir, HOST: "127.0.0.1" }, port);
    try {
      expect((await token(server.url, "ops@example.com", "a-long-cli-password")).status).toBe(200);
    } finally {
      server.child.kill("SIGTERM");
      await once(server.child, "exit");
    }
  });

  it("starts with no configuration, creates a first admin, and stops gracefully on SIGTERM", async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const server = await startServer(["serve"], { DATA_DIR: dataDir, HOST: "127.0.0.1" }, port);
    const password = readFileSync(path.join(dataDir, "initial-admin-password"), "utf8");
    expect(readFileSync(path.join(dataDir, "secret.key"), "utf8")).toMatch(/^[0-9a-f]{64}$/);
    const ok = await token(server.url, "admin@anteroom.local", password);
    expect(ok.status).toBe(200);

    server.child.kill("SIGTERM");
    const [code] = await once(server.child, "exit");
    expect(code).toBe(0);
  });

  it("keeps the generated secret across restarts (tokens stay valid)", async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const first = await startServer(["serve"], { DATA_DIR: dataDir, HOST: "127.0.0.1" }, port);
    const password = readFileSync(path.join(dataDir, "initial-admin-password"), "utf8");
    const { access_token } = (await (await token(first.url, "admin@anteroom.local", password)).json()) as {
      access_token: string;
    };
    first.child.kill("SIGTERM");
    await once(first.child, "exit");
    const second = await startServer(["serve"], { DATA_DIR: dataDir, HOST: "127.0.0.1" }, port);
    try {
      const me = await fetch(`${second.url}/auth/me`, {
        headers: { authorization: `Bearer ${access_token}` },
      });
      expect(me.status).toBe(200);
    } finally {
      second.child.kill("SIGTERM");
      await once(second.child, "exit");
    }
  });
});

describe("anteroom CLI: .env and readable logs", () => {
  it("honours a .env in the working directory (the environment winning) and prints a readable banner", async () => {
    const cwd = realpathSync(tempDir());
    // The environment's PORT and LOG_FORMAT win over the file's; the file's DATA_DIR and HOST are used.
    writeFileSync(
      path.join(cwd, ".env"),
      "# from the file\nDATA_DIR=./from-env-file\nHOST=127.0.0.1\nPORT=eighty\nLOG_FORMAT=json\n",
    );
    const port = await freePort();
    const server = await startServer(["serve"], { LOG_FORMAT: "pretty", LOG_LEVEL: "info" }, port, { cwd });
    try {
      const deadline = Date.now() + 5_000;
      while (!server.output().includes("logs: ") && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const output = server.output();
      expect(output).toMatch(
        new RegExp(`\\] INFO: api: anteroom serve: API at http://127\\.0\\.0\\.1:${port}, docs at .*/docs\n`),
      );
      expect(output).toContain("mode: embedded");
      expect(output).toContain(`data: SQLite ${path.join(cwd, "from-env-file", "anteroom.db")}`);
      expect(output).toContain("logs: pretty, level info");
      expect(output).not.toMatch(/^\{/m); // no JSON lines
      expect(existsSync(path.join(cwd, "from-env-file", "secret.key"))).toBe(true);
    } finally {
      server.child.kill("SIGTERM");
      await once(server.child, "exit");
    }
  });

  it("refuses to start on a malformed .env line, naming the line, with the other problems", async () => {
    const cwd = tempDir();
    writeFileSync(path.join(cwd, ".env"), "DATA_DIR=./data\nnot an assignment\n");
    const result = await runCli(["serve"], { SMTP_PORT: "x" }, undefined, { cwd });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(".env line 2: expected NAME=value");
    expect(result.stderr).toContain("SMTP_PORT");
  });
});

describe("anteroom CLI in production mode", () => {
  it("refuses to serve PostgreSQL without Redis, saying why", async () => {
    const result = await runCli(["serve"], {
      DATA_DIR: tempDir(),
      DB_URL: "postgres://postgres@127.0.0.1:5432/test",
      SECRET_KEY: "x".repeat(32),
    });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain("REDIS_URL is required");
    expect(result.stderr).toContain("share the hot index");
  });

  it("refuses to run a worker in embedded mode", async () => {
    const result = await runCli(["worker"], { DATA_DIR: tempDir() });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("needs a PostgreSQL DB_URL");
  });
});

describe("embedded mode end to end", () => {
  it("releases a visitor through the worker loop running inside `anteroom serve`", async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const server = await startServer(
      ["serve"],
      { DATA_DIR: dataDir, HOST: "127.0.0.1", ALLOW_PRIVATE_CALLBACKS: "true" },
      port,
    );
    try {
      const password = readFileSync(path.join(dataDir, "initial-admin-password"), "utf8");
      const { access_token } = (await (await token(server.url, "admin@anteroom.local", password)).json()) as {
        access_token: string;
      };
      const headers = { authorization: `Bearer ${access_token}`, "content-type": "application/json" };
      const app = (await (
        await fetch(`${server.url}/applications/`, {
          method: "POST",
          headers,
          body: JSON.stringify({
            name: "Shop",
            domain: "shop.example.com",
            callback_url: "http://127.0.0.1:9/cb",
          }),
        })
      ).json()) as { id: string; api_key: string };
      const queue = (await (
        await fetch(`${server.url}/queues/`, {
          method: "POST",
          headers,
          body: JSON.stringify({ application_id: app.id, name: "Drop", max_users_per_minute: 600 }),
        })
      ).json()) as { id: string };
      const joined = (await (
        await fetch(`${server.url}/join`, {
          method: "POST",
          headers: { "x-api-key": app.api_key, "content-type": "application/json" },
          body: JSON.stringify({ queue_id: queue.id, visitor_id: "visitor-1" }),
        })
      ).json()) as { token: string };
      let status = "waiting";
      for (let i = 0; i < 50 && status === "waiting"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const polled = (await (await fetch(`${server.url}/queue_status?token=${joined.token}`)).json()) as {
          status: string;
        };
        status = polled.status;
      }
      expect(status).toBe("released");
    } finally {
      server.child.kill("SIGTERM");
      await once(server.child, "exit");
    }
  });
});
