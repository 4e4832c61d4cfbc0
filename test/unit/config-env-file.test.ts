import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseEnvFile } from "../../src/config/index.js";

const dir = mkdtempSync(path.join(tmpdir(), "anteroom-env-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function envFile(text: string): string {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.env`);
  writeFileSync(file, text);
  return file;
}

function problems(action: () => unknown): string[] {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe(".env parsing", () => {
  it("reads the process.loadEnvFile format", () => {
    const { values, problems } = parseEnvFile(
      [
        "# a comment",
        "",
        "PORT=9000",
        "export HOST = 127.0.0.1  ",
        "PUBLIC_URL=https://q.example.com # trailing comment",
        "SINGLE='kept as is \\n # not a comment'",
        'DOUBLE="line one\\nline two"',
        'MULTI="first',
        'second"',
        "BACKTICK=`it's`",
        "EMPTY=",
        "PORT=9001",
      ].join("\r\n"),
    );
    expect(problems).toEqual([]);
    expect(values).toEqual({
      PORT: "9001", // the last assignment wins
      HOST: "127.0.0.1",
      PUBLIC_URL: "https://q.example.com",
      SINGLE: "kept as is \\n # not a comment",
      DOUBLE: "line one\nline two",
      MULTI: "first\nsecond",
      BACKTICK: "it's",
      EMPTY: "",
    });
  });

  it.each([
    ["PORT=8000\nthis is not an assignment\n", 2, "expected NAME=value"],
    ["PORT=8000\n\n1PORT=3\n", 3, "expected NAME=value"],
    ['A=1\nSECRET_KEY="never closed\nB=2\n', 2, "never closed"],
    ['A="closed" trailing\n', 1, "after A's closing quote"],
  ])("reports a malformed line by its number: %j", (text, line, what) => {
    const { problems } = parseEnvFile(text, "/srv/.env");
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`/srv/.env line ${line}: `);
    expect(problems[0]).toContain(what);
  });

  it("never repeats a malformed line, which may hold a secret", () => {
    const [problem] = parseEnvFile("SECRET_KEY hunter2-hunter2\n").problems;
    expect(problem).not.toContain("hunter2");
  });
});

describe("loadConfig with a .env file", () => {
  it("uses the file's values", () => {
    const config = loadConfig({}, envFile("PORT=9000\nDATA_DIR=/srv/anteroom\nLOG_FORMAT=json\n"));
    expect(config).toMatchObject({ port: 9000, dataDir: "/srv/anteroom", logFormat: "json" });
  });

  it("lets the real environment win, even when it sets a variable empty", () => {
    const file = envFile("PORT=9000\nHOST=10.0.0.1\nQUEUE_THRESHOLD=7\n");
    const config = loadConfig({ PORT: "9100", HOST: "", QUEUE_THRESHOLD: undefined }, file);
    expect(config.port).toBe(9100);
    expect(config.host).toBe("0.0.0.0"); // empty is unset: the default, not the file's value
    expect(config.queueThreshold).toBe(7);
  });

  it("runs without the file", () => {
    expect(loadConfig({ PORT: "9000" }, path.join(dir, "missing.env")).port).toBe(9000);
  });

  it("reports the file's malformed lines together with bad values", () => {
    const file = envFile("PORT=eighty\nnonsense\n");
    const found = problems(() => loadConfig({ SMTP_PORT: "x" }, file));
    expect(found).toHaveLength(3);
    expect(found[0]).toContain(`${file} line 2`);
    expect(found.join("\n")).toContain("PORT must be an integer");
    expect(found.join("\n")).toContain("SMTP_PORT");
  });

  it("reads rules across the file and the environment", () => {
    const file = envFile("DB_URL=postgres://db/anteroom\n");
    expect(problems(() => loadConfig({ SECRET_KEY: "x".repeat(32) }, file))).toEqual([
      expect.stringContaining("REDIS_URL is required"),
    ]);
  });
});
