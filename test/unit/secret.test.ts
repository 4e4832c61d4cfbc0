import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config/index.js";
import { resolveSecretKey } from "../../src/start/secret.js";

const logger = pino({ level: "silent" });
const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "anteroom-secret-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("the generated secret key file", () => {
  it("is created once, owner-only, with no temporary file left behind, and read back the same", () => {
    const dir = dataDir();
    const config = parseConfig({ DATA_DIR: dir });
    const first = resolveSecretKey(config, logger);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(path.join(dir, "secret.key")).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["secret.key"]);
    expect(resolveSecretKey(config, logger)).toBe(first);
  });

  it("stops start-up when empty or shorter than SECRET_KEY's 32 characters", () => {
    for (const content of ["", "\n", "short-key", "x".repeat(31)]) {
      const dir = dataDir();
      writeFileSync(path.join(dir, "secret.key"), content);
      expect(() => resolveSecretKey(parseConfig({ DATA_DIR: dir }), logger)).toThrow(ConfigError);
    }
    const dir = dataDir();
    writeFileSync(path.join(dir, "secret.key"), `${"k".repeat(32)}\n`);
    expect(resolveSecretKey(parseConfig({ DATA_DIR: dir }), logger)).toBe("k".repeat(32));
  });

  it("is not used when SECRET_KEY is set", () => {
    const dir = dataDir();
    const key = "s".repeat(40);
    expect(resolveSecretKey(parseConfig({ DATA_DIR: dir, SECRET_KEY: key }), logger)).toBe(key);
    expect(readdirSync(dir)).toEqual([]);
    expect(() => readFileSync(path.join(dir, "secret.key"))).toThrow();
  });
});
