import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdmissionKeys } from "../../src/services/admission-keys.js";
import { createSite, type Harness, type JoinBody, join, startHarness, status } from "../helpers/harness.js";
import { releasedIn } from "../helpers/releases.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe("release", () => {
  it("releases in join order (FIFO), with an admission JWT that verifies against /.well-known/jwks.json", async () => {
    const site = await createSite(h, { max_users_per_minute: 60, admission_ttl_seconds: 900 });
    // One after another, so join order is the order they are sent in.
    const visitors: JoinBody[] = [];
    for (let i = 0; i < 5; i++) visitors.push(await join(h, site.apiKey, site.queueId, `fifo-${i}`));
    for (let i = 0; i < 5; i++) {
      await h.room.engine.releaseDue();
      h.clock.advance(1000);
    }
    const released = await releasedIn(h, site.queueId);
    expect(released.map((row) => row.visitor_id)).toEqual(["fifo-0", "fifo-1", "fifo-2", "fifo-3", "fifo-4"]);
    expect(new Set(released.map((row) => row.released_at)).size).toBe(5); // one a second, not a batch

    const first = visitors[0];
    if (first === undefined) throw new Error("no visitor");
    const body = await status(h, first.token);
    expect(body).toMatchObject({ status: "released", position: null, poll_after_seconds: null });
    const accessToken = body.access_token ?? "";
    expect(body.redirect_url).toBe(`https://shop.example.com/?anteroom_token=${accessToken}`);

    const jwks = (await h.app.inject({ method: "GET", url: "/.well-known/jwks.json" })).json();
    const { payload, protectedHeader } = await jwtVerify(accessToken, createLocalJWKSet(jwks), {
      issuer: "anteroom-test",
      audience: site.queueId,
      currentDate: new Date(h.clock.now()),
    });
    expect(protectedHeader.alg).toBe("EdDSA");
    expect(protectedHeader.kid).toEqual(expect.any(String));
    expect(payload).toMatchObject({ sub: "fifo-0", aud: site.queueId, iss: "anteroom-test" });
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.exp).toBe((payload.iat ?? 0) + 900);
    // Valid from 30 s before it was issued, so a site whose clock is a little behind accepts it at once.
    expect(payload.nbf).toBe((payload.iat ?? 0) - 30);
    await expect(
      jwtVerify(accessToken, createLocalJWKSet(jwks), {
        issuer: "anteroom-test",
        audience: site.queueId,
        currentDate: new Date(h.clock.now() - 20_000),
      }),
    ).resolves.toBeDefined();
  });
});

describe("signing keys across processes", () => {
  const jwksKids = async () =>
    (await h.app.inject({ method: "GET", url: "/.well-known/jwks.json" }))
      .json<{ keys: { kid: string }[] }>()
      .keys.map((key) => key.kid);

  it("signs with the record's current key when another process revoked the previous one unheard", async () => {
    const site = await createSite(h, { max_users_per_minute: 60 });
    const oldKids = await jwksKids();
    // Another process over the same record rotates with revocation; this one hears no change event.
    const other = new AdmissionKeys(h.store.signingKeys, h.keys.atRest, h.clock, "anteroom-test");
    await other.init();
    const kid = await other.rotate({ revoke: true });
    await join(h, site.apiKey, site.queueId, "after-revocation");
    await h.room.engine.releaseDue();
    const accessToken = (await h.store.tickets.findBySeq(site.queueId, 1))?.access_token ?? "";
    expect(decodeProtectedHeader(accessToken).kid).toBe(kid);
    expect(oldKids).not.toContain(kid);
    // Having met the new key in the record, this process reloaded its keys: the revoked ones are gone.
    expect(await jwksKids()).toEqual([kid]);
    const check = await h.app.inject({
      method: "POST",
      url: "/admissions/check",
      headers: { "x-api-key": site.apiKey },
      payload: { access_token: accessToken },
    });
    expect(check.statusCode).toBe(200);
  });
});

describe("restart", () => {
  it("keeps every waiting visitor's position and every released visitor's admission", async () => {
    const site = await createSite(h, { max_users_per_minute: 60 });
    const visitors: JoinBody[] = [];
    for (let i = 0; i < 50; i++) visitors.push(await join(h, site.apiKey, site.queueId, `restart-${i}`));
    await h.room.engine.releaseDue();
    const second = visitors[1];
    const first = visitors[0];
    if (first === undefined || second === undefined) throw new Error("no visitors");
    await h.app.inject({ method: "POST", url: `/cancel?token=${second.token}` });
    const before = await Promise.all(visitors.map((visitor) => status(h, visitor.token)));
    await h.restart();
    const after = await Promise.all(visitors.map((visitor) => status(h, visitor.token)));
    expect(after.map((body) => [body.status, body.position])).toEqual(
      before.map((body) => [body.status, body.position]),
    );
    expect(after[0]?.access_token).toBe(before[0]?.access_token);
    expect(after[2]?.position).toBe(1);
    expect(after.at(-1)?.position).toBe(48);
  });
});
