import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/index.js";
import { chooseLogFormat, createLogger } from "../../src/observability/logger.js";
import { banner } from "../../src/start/banner.js";

function capture(): { stream: { write(text: string): void }; text: () => string } {
  let written = "";
  return {
    stream: {
      write: (text: string) => {
        written += text;
      },
    },
    text: () => written,
  };
}

describe("log format", () => {
  it.each([
    ["auto", true, "pretty"],
    ["auto", false, "json"],
    ["pretty", false, "pretty"],
    ["pretty", true, "pretty"],
    ["json", true, "json"],
    ["json", false, "json"],
  ] as const)("LOG_FORMAT=%s, stdout a terminal: %s → %s", (setting, terminal, expected) => {
    expect(chooseLogFormat(setting, terminal)).toBe(expected);
  });

  it("reads LOG_FORMAT, auto by default, and names it when wrong", () => {
    expect(parseConfig({}).logFormat).toBe("auto");
    expect(parseConfig({ LOG_FORMAT: "Pretty" }).logFormat).toBe("pretty");
    expect(() => parseConfig({ LOG_FORMAT: "xml" })).toThrow(/LOG_FORMAT must be one of auto, pretty, json/);
  });

  it("pretty: one readable line per entry, no colour off a terminal, secrets redacted", () => {
    const out = capture();
    const logger = createLogger({ logLevel: "info", logFormat: "pretty" }, { ...out, isTerminal: false });
    logger
      .child({ process: "api" })
      .info({ port: 8000, req: { headers: { authorization: "Bearer s3cret" } } }, "hello");
    const [line, ...rest] = out.text().split("\n");
    expect(rest).toEqual([""]);
    expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: api: hello \{.*"port":8000/);
    expect(line).toContain("[redacted]");
    expect(line).not.toContain("s3cret");
    expect(line).not.toContain("\u001b[");
  });

  it("pretty on a terminal is coloured", () => {
    const out = capture();
    createLogger({ logLevel: "info", logFormat: "auto" }, { ...out, isTerminal: true }).warn("careful");
    expect(out.text()).toContain("\u001b[");
    expect(out.text()).toContain("careful");
  });

  it("json: one JSON object per line", () => {
    const out = capture();
    const logger = createLogger({ logLevel: "info", logFormat: "json" }, { ...out, isTerminal: true });
    logger.info({ port: 8000 }, "hello");
    logger.debug("below the level");
    const lines = out.text().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({
      level: 30,
      msg: "hello",
      port: 8000,
      service: "anteroom",
    });
  });
});

describe("start-up banner", () => {
  it("serve, embedded: the API and docs URLs, the mode, the SQLite file, the log format", () => {
    const config = parseConfig({ DATA_DIR: "/srv/anteroom", LOG_LEVEL: "debug" });
    const { lines, fields } = banner(config, "serve", 8123, "pretty");
    expect(lines[0]).toBe("anteroom serve: API at http://localhost:8123, docs at http://localhost:8123/docs");
    expect(lines).toContain(
      "mode: embedded (SQLite record, in-process index, release worker in this process)",
    );
    expect(lines).toContain("data: SQLite /srv/anteroom/anteroom.db (DATA_DIR /srv/anteroom)");
    expect(lines).toContain("logs: pretty, level debug (LOG_FORMAT=json for JSON lines)");
    expect(fields).toMatchObject({
      url: "http://localhost:8123",
      docs: "http://localhost:8123/docs",
      mode: "embedded",
    });
  });

  it("production: PostgreSQL and Redis hosts without their passwords", () => {
    const config = parseConfig({
      DB_URL: "postgres://anteroom:pg-pass@db.internal:5432/anteroom?sslmode=require&password=q",
      REDIS_URL: "rediss://:redis-pass@cache.internal:6380",
      SECRET_KEY: "k".repeat(32),
      HOST: "10.0.0.5",
      PUBLIC_URL: "https://queue.example.com",
    });
    const serve = banner(config, "serve", 8000, "json");
    const text = serve.lines.join("\n");
    expect(text).toContain("API at http://10.0.0.5:8000");
    expect(text).toContain("public URL: https://queue.example.com");
    expect(text).toContain(
      "mode: production (PostgreSQL record, Redis index; release runs in `anteroom worker`)",
    );
    expect(text).toContain(
      "data: PostgreSQL anteroom@db.internal:5432/anteroom, Redis cache.internal:6380 (TLS)",
    );
    expect(text).toContain("logs: json, level info");
    expect(`${text}${JSON.stringify(serve.fields)}`).not.toMatch(/pg-pass|redis-pass|password=q/);

    const worker = banner(config, "worker", 9100, "json");
    expect(worker.lines[0]).toBe("anteroom worker: /metrics, /healthz, /readyz at http://10.0.0.5:9100");
    expect(worker.fields).not.toHaveProperty("docs");
    expect(worker.fields).toMatchObject({ mode: "production", url: "http://10.0.0.5:9100" });
  });

  it("shows an IPv6 host in brackets", () => {
    expect(banner(parseConfig({ HOST: "::1" }), "serve", 8000, "json").fields.url).toBe("http://[::1]:8000");
  });
});
