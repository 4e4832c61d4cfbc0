import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdmissionKeys } from "../../src/domain/admission.js";
import { ManualClock } from "../../src/domain/clock.js";
import { deriveKeys } from "../../src/domain/secrets.js";
import type { KyselyStore } from "../../src/store/kysely/store.js";
import { openSqliteStore } from "../../src/store/sqlite.js";

let dir: string;
let store: KyselyStore;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "anteroom-keys-"));
  store = openSqliteStore(path.join(dir, "db.sqlite"));
  await store.migrate();
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const claims = (now: number) => ({
  queueId: "0b6f3a2e-8c4d-4e1f-9a7b-123456789abc",
  applicationId: "1b6f3a2e-8c4d-4e1f-9a7b-123456789abc",
  visitorId: "v",
  ticketId: "2b6f3a2e-8c4d-4e1f-9a7b-123456789abc",
  seq: 1,
  issuedAt: now,
  ttlSeconds: 600,
});

describe("admission signing keys across processes", () => {
  it("processes that generate their first key at the same moment still sign, and verify each other's tokens", async () => {
    const clock = new ManualClock();
    const at = deriveKeys("a-secret-key-of-at-least-32-characters!!").atRest;
    const processes = Array.from({ length: 4 }, () => new AdmissionKeys(store.signingKeys, at, clock, "iss"));
    await Promise.all(processes.map((keys) => keys.init()));
    await Promise.all(processes.map((keys) => keys.refresh()));
    const tokens = await Promise.all(processes.map((keys) => keys.sign(claims(clock.now()))));
    for (const keys of processes) {
      for (const token of tokens) await expect(keys.verify(token)).resolves.toMatchObject({ visitorId: "v" });
    }
    // After refreshing, every process signs with the same, newest key.
    const kids = new Set(
      tokens.map((token) => JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString()).kid),
    );
    expect(kids.size).toBe(1);
  });
});
