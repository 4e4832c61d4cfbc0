import path from "node:path";
import { Value } from "typebox/value";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config/index.js";
import { VARIABLES } from "../../src/config/schema.js";

function problems(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("config", () => {
  it("runs with no configuration at all: SQLite under ./data, port 8000", () => {
    const config = parseConfig({});
    expect(config.port).toBe(8000);
    expect(config.database).toEqual({ kind: "sqlite", url: path.resolve("data", "anteroom.db") });
    expect(config.secretKey).toBeUndefined();
    expect(config.smtp.port).toBe(587);
    expect(config.queueThreshold).toBe(100);
    expect(config.allowPrivateCallbacks).toBe(false);
  });

  it("reads every documented variable", () => {
    const config = parseConfig({
      PORT: "9000",
      HOST: "127.0.0.1",
      DATA_DIR: "/var/lib/anteroom",
      LOG_LEVEL: "DEBUG",
      DB_URL: "postgres://anteroom@db:5432/anteroom",
      REDIS_URL: "redis://cache:6379",
      SECRET_KEY: "x".repeat(32),
      ADMIN_EMAIL: "Ops@Example.com",
      ADMIN_PASSWORD: "a-long-password",
      SMTP_HOST: "smtp.example.com",
      SMTP_PORT: "2525",
      SMTP_USER: "u",
      SMTP_PASS: "p",
      WEBHOOK_URL: "https://hooks.example.com/x",
      QUEUE_THRESHOLD: "5000",
      ALLOW_PRIVATE_CALLBACKS: "true",
      TRUST_PROXY: "1",
      PUBLIC_URL: "https://queue.example.com/",
    });
    expect(config).toMatchObject({
      port: 9000,
      host: "127.0.0.1",
      dataDir: "/var/lib/anteroom",
      logLevel: "debug",
      database: { kind: "postgres", url: "postgres://anteroom@db:5432/anteroom" },
      redisUrl: "redis://cache:6379",
      adminEmail: "ops@example.com",
      smtp: { host: "smtp.example.com", port: 2525, user: "u", pass: "p" },
      webhookUrl: "https://hooks.example.com/x",
      queueThreshold: 5000,
      allowPrivateCallbacks: true,
      trustProxy: 1,
      publicUrl: "https://queue.example.com",
    });
  });

  it("reads TRUST_PROXY as hops or proxy addresses, never as 'trust everyone'", () => {
    expect(parseConfig({}).trustProxy).toBe(false);
    expect(parseConfig({ TRUST_PROXY: "true" }).trustProxy).toBe(1);
    expect(parseConfig({ TRUST_PROXY: "2" }).trustProxy).toBe(2);
    expect(parseConfig({ TRUST_PROXY: "10.0.0.0/8, 192.168.1.5" }).trustProxy).toBe("10.0.0.0/8,192.168.1.5");
    expect(problems({ TRUST_PROXY: "everyone" })[0]).toContain("TRUST_PROXY");
  });

  it("accepts sqlite: URLs", () => {
    expect(parseConfig({ DB_URL: "sqlite:/tmp/x.db" }).database).toEqual({
      kind: "sqlite",
      url: "/tmp/x.db",
    });
    expect(parseConfig({ DB_URL: "sqlite::memory:" }).database).toEqual({ kind: "sqlite", url: ":memory:" });
  });

  it.each([
    [{ PORT: "eighty" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ SMTP_PORT: "-1" }, "SMTP_PORT"],
    [{ QUEUE_THRESHOLD: "0" }, "QUEUE_THRESHOLD"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ DB_URL: "mysql://x" }, "DB_URL"],
    [{ REDIS_URL: "http://x" }, "REDIS_URL"],
    [{ SECRET_KEY: "short" }, "SECRET_KEY"],
    [{ ADMIN_EMAIL: "not-an-email" }, "ADMIN_EMAIL"],
    [{ ADMIN_EMAIL: `a@${".".repeat(64_000)}@` }, "ADMIN_EMAIL"],
    [{ ADMIN_EMAIL: "a@b.co", ADMIN_PASSWORD: "short" }, "ADMIN_PASSWORD"],
    [{ ADMIN_PASSWORD: "a-long-enough-password" }, "ADMIN_PASSWORD"],
    [{ WEBHOOK_URL: "not a url" }, "WEBHOOK_URL"],
    [{ ALLOW_PRIVATE_CALLBACKS: "maybe" }, "ALLOW_PRIVATE_CALLBACKS"],
    [{ WORKER_PORT: "-3" }, "WORKER_PORT"],
    [{ CALLBACK_LEASE_SECONDS: "1" }, "CALLBACK_LEASE_SECONDS"],
    [{ METRICS_TOKEN: "short" }, "METRICS_TOKEN"],
    [{ SECRET_KEY_PREVIOUS: "p".repeat(32) }, "SECRET_KEY_PREVIOUS"],
    [{ SECRET_KEY: "k".repeat(32), SECRET_KEY_PREVIOUS: "k".repeat(32) }, "SECRET_KEY_PREVIOUS"],
    [{ SECRET_KEY: "k".repeat(32), SECRET_KEY_PREVIOUS: "short" }, "SECRET_KEY_PREVIOUS"],
    [{ METRICS_PORT: "0" }, "METRICS_PORT"],
    [{ METRICS_PORT: "8000" }, "METRICS_PORT"],
    [{ DB_URL: "postgres://db/anteroom", SECRET_KEY: "x".repeat(32) }, "REDIS_URL"],
    [{ DB_URL: "postgres://db/anteroom", REDIS_URL: "redis://cache:6379" }, "SECRET_KEY"],
  ])("refuses %j, naming %s", (env, variable) => {
    const found = problems(env);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(variable);
  });

  it("says why PostgreSQL needs Redis", () => {
    const [problem] = problems({ DB_URL: "postgres://db/anteroom", SECRET_KEY: "x".repeat(32) });
    expect(problem).toContain("API processes share the hot index");
  });

  it("reports every bad variable at once", () => {
    expect(problems({ PORT: "x", LOG_LEVEL: "y", SMTP_PORT: "z" })).toHaveLength(3);
  });

  it.each([
    [{}, "embedded"],
    [{ DB_URL: "sqlite:/tmp/x.db" }, "embedded"],
    [
      { DB_URL: "postgresql://db/anteroom", REDIS_URL: "redis://cache", SECRET_KEY: "x".repeat(32) },
      "production",
    ],
  ])("derives the mode from DB_URL: %j → %s", (env, mode) => {
    expect(parseConfig(env).mode).toBe(mode);
  });

  it("never repeats a secret, or a URL that may hold a password, in a message", () => {
    const found = problems({
      SECRET_KEY: "too-short-secret",
      METRICS_TOKEN: "short-token",
      DB_URL: "mysql://user:db-password@x/db",
      REDIS_URL: "http://:redis-password@x",
    }).join("\n");
    expect(found).toContain("SECRET_KEY");
    expect(found).toContain("REDIS_URL");
    expect(found).not.toMatch(/too-short-secret|short-token|db-password|redis-password/);
  });

  it("cuts a long value short in a message", () => {
    const [problem] = problems({ ADMIN_EMAIL: "x".repeat(10_000) });
    expect(problem?.length).toBeLessThan(200);
  });

  it("declares a default that its own schema accepts, for every variable", () => {
    for (const [name, declared] of Object.entries(VARIABLES)) {
      if (declared.fallback === undefined) continue;
      expect(Value.Check(declared.schema, declared.fallback), name).toBe(true);
    }
  });
});
