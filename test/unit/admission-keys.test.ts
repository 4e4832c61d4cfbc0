import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/domain/clock.js";
import { deriveKeys } from "../../src/domain/secrets.js";
import { AdmissionKeys } from "../../src/services/admission-keys.js";
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

const atRest = deriveKeys("a-secret-key-of-at-least-32-characters!!").atRest;

/** The record's current signing key, as the release transaction reads it: the newest not revoked. */
async function current() {
  const key = (await store.signingKeys.list()).filter((row) => row.revoked_at === null).at(-1);
  if (key === undefined) throw new Error("no signing key");
  return key;
}

const kidOf = (token: string) => decodeProtectedHeader(token).kid;

describe("admission signing keys across processes", () => {
  it("processes that generate their first key at the same moment still sign, and verify each other's tokens", async () => {
    const clock = new ManualClock();
    const at = deriveKeys("a-secret-key-of-at-least-32-characters!!").atRest;
    const processes = Array.from({ length: 4 }, () => new AdmissionKeys(store.signingKeys, at, clock, "iss"));
    await Promise.all(processes.map((keys) => keys.init()));
    await Promise.all(processes.map((keys) => keys.refresh()));
    const key = await current();
    const tokens = await Promise.all(processes.map((keys) => keys.sign(key, claims(clock.now()))));
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

describe("signing with the record's key", () => {
  it("a process that missed a revocation signs with the record's key and then drops the revoked one", async () => {
    const clock = new ManualClock();
    const here = new AdmissionKeys(store.signingKeys, atRest, clock, "iss");
    const elsewhere = new AdmissionKeys(store.signingKeys, atRest, clock, "iss");
    await here.init();
    await elsewhere.init();
    const before = here.jwks().keys.map((key) => key.kid);
    const kid = await elsewhere.rotate({ revoke: true });
    const token = await here.sign(await current(), claims(clock.now()));
    expect(kidOf(token)).toBe(kid);
    await here.refreshIfOutdated();
    expect(here.jwks().keys.map((key) => key.kid)).toEqual([kid]);
    for (const old of before) expect(here.jwks().keys.map((key) => key.kid)).not.toContain(old);
  });

  it("refuses to sign with a revoked key", async () => {
    const clock = new ManualClock();
    const keys = new AdmissionKeys(store.signingKeys, atRest, clock, "iss");
    await keys.init();
    const revoked = await current();
    await keys.rotate({ revoke: true });
    await expect(
      keys.sign({ ...revoked, revoked_at: new Date(clock.now()).toISOString() }, claims(clock.now())),
    ).rejects.toThrow(/revoked/);
    // Known here as revoked, even if the row handed in says otherwise.
    await expect(keys.sign(revoked, claims(clock.now()))).rejects.toThrow(/revoked/);
  });

  it("verifies a token signed with a key this process has not loaded yet (rotated elsewhere)", async () => {
    const clock = new ManualClock();
    const verifier = new AdmissionKeys(store.signingKeys, atRest, clock, "iss");
    const signer = new AdmissionKeys(store.signingKeys, atRest, clock, "iss");
    await verifier.init();
    await signer.init();
    await signer.rotate();
    const token = await signer.sign(await current(), claims(clock.now()));
    await expect(verifier.verify(token)).resolves.toMatchObject({ visitorId: "v" });
  });
});

describe("admission token times", () => {
  it("is valid from 30 s before it was issued, for verifiers whose clocks run a little behind", async () => {
    const clock = new ManualClock(1_800_000_000_000);
    const keys = new AdmissionKeys(store.signingKeys, atRest, clock, "iss");
    await keys.init();
    const token = await keys.sign(await current(), claims(clock.now()));
    const payload = decodeJwt(token);
    expect(payload.iat).toBe(1_800_000_000);
    expect(payload.nbf).toBe(1_800_000_000 - 30);
    expect(payload.exp).toBe(1_800_000_000 + 600);
    const jwk = keys.jwks().keys.find((key) => key.kid === kidOf(token));
    if (jwk === undefined) throw new Error("signing key not published");
    const publicKey = await importJWK(jwk, "EdDSA");
    const verifyAt = (ms: number) =>
      jwtVerify(token, publicKey, {
        issuer: "iss",
        audience: claims(0).queueId,
        currentDate: new Date(ms),
      });
    await expect(verifyAt(clock.now() - 25_000)).resolves.toBeDefined(); // a clock 25 s behind
    await expect(verifyAt(clock.now() - 35_000)).rejects.toThrow(/nbf/);
  });
});
