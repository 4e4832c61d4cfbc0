import { decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSite, type Harness, join, startHarness, status } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

async function admissionCheck(apiKey: string, accessToken: string) {
  return h.app.inject({
    method: "POST",
    url: "/admissions/check",
    headers: { "x-api-key": apiKey },
    payload: { access_token: accessToken },
  });
}

describe("abandonment", () => {
  it("a waiting visitor who stops polling for abandon_after loses the place; those behind move up", async () => {
    const site = await createSite(h, { max_users_per_minute: 1, abandon_after_seconds: 120 });
    const gone = await join(h, site.apiKey, site.queueId, "walks-away");
    const stays = await join(h, site.apiKey, site.queueId, "stays");
    for (let minute = 0; minute < 3; minute++) {
      h.clock.advance(60_000);
      await status(h, stays.token);
      await h.room.engine.expire();
    }
    expect((await status(h, gone.token)).status).toBe("expired");
    expect(await status(h, stays.token)).toMatchObject({ status: "waiting", position: 1, queue_size: 1 });
    const row = await h.store.tickets.findBySeq(site.queueId, 1);
    expect(row).toMatchObject({ status: "expired", end_reason: "abandoned" });
  });

  it("nobody expires merely for waiting long: a visitor polling every minute waits for hours", async () => {
    const site = await createSite(h, { max_users_per_minute: 1, abandon_after_seconds: 120 });
    const ahead = await Promise.all(
      Array.from({ length: 3 }, (_, i) => join(h, site.apiKey, site.queueId, `ahead-${i}`)),
    );
    const patient = await join(h, site.apiKey, site.queueId, "patient");
    for (let minute = 0; minute < 180; minute++) {
      h.clock.advance(60_000);
      for (const visitor of ahead) await status(h, visitor.token);
      const body = await status(h, patient.token);
      expect(body.status).toBe("waiting");
      await h.room.engine.expire();
    }
    expect(await status(h, patient.token)).toMatchObject({ status: "waiting", position: 4 });
  });
});

describe("released visitors", () => {
  it("expire when never seen within release_ttl", async () => {
    const site = await createSite(h, { max_users_per_minute: 60, release_ttl_seconds: 600 });
    const visitor = await join(h, site.apiKey, site.queueId, "no-show");
    await h.room.engine.releaseDue();
    h.clock.advance(599_000);
    await h.room.engine.expire();
    expect((await h.store.tickets.findBySeq(site.queueId, 1))?.status).toBe("released");
    h.clock.advance(2_000);
    await h.room.engine.expire();
    expect(await h.store.tickets.findBySeq(site.queueId, 1)).toMatchObject({
      status: "expired",
      end_reason: "not_seen",
    });
    expect((await status(h, visitor.token)).status).toBe("expired");
    // Its JWT has not run out, but the site's online check refuses the expired release.
    const accessToken = (await h.store.tickets.findBySeq(site.queueId, 1))?.access_token ?? "";
    expect((await admissionCheck(site.apiKey, accessToken)).statusCode).toBe(401);
  });

  it("stay released once seen by a poll", async () => {
    const site = await createSite(h, { max_users_per_minute: 60, release_ttl_seconds: 600 });
    const visitor = await join(h, site.apiKey, site.queueId, "polls");
    await h.room.engine.releaseDue();
    h.clock.advance(5_000);
    expect((await status(h, visitor.token)).status).toBe("released");
    h.clock.advance(700_000); // past release_ttl, within the admission
    await h.room.engine.expire();
    expect((await h.store.tickets.findBySeq(site.queueId, 1))?.admitted_at).not.toBeNull();
    expect((await status(h, visitor.token)).status).toBe("released");
  });

  it("stay released once the site checks their admission token, which verifies it for that site only", async () => {
    const site = await createSite(h, { max_users_per_minute: 60, release_ttl_seconds: 600 });
    const other = await createSite(h);
    await join(h, site.apiKey, site.queueId, "arrives");
    await h.room.engine.releaseDue();
    const ticket = await h.store.tickets.findBySeq(site.queueId, 1);
    const accessToken = ticket?.access_token ?? "";
    const check = await admissionCheck(site.apiKey, accessToken);
    expect(check.statusCode).toBe(200);
    expect(check.json()).toMatchObject({
      valid: true,
      queue_id: site.queueId,
      visitor_id: "arrives",
      first_seen: true,
    });
    expect((await admissionCheck(site.apiKey, accessToken)).json()).toMatchObject({ first_seen: false });
    expect((await admissionCheck(other.apiKey, accessToken)).statusCode).toBe(401);
    expect((await admissionCheck(site.apiKey, `${accessToken.slice(0, -3)}abc`)).statusCode).toBe(401);
    expect((await admissionCheck("ak_wrong", accessToken)).statusCode).toBe(401);
    h.clock.advance(700_000);
    await h.room.engine.expire();
    expect((await h.store.tickets.findBySeq(site.queueId, 1))?.status).toBe("released");
  });

  it("admission tokens expire after admission_ttl_seconds", async () => {
    const site = await createSite(h, { max_users_per_minute: 60, admission_ttl_seconds: 120 });
    await join(h, site.apiKey, site.queueId, "late");
    await h.room.engine.releaseDue();
    const accessToken = (await h.store.tickets.findBySeq(site.queueId, 1))?.access_token ?? "";
    h.clock.advance(121_000);
    expect((await admissionCheck(site.apiKey, accessToken)).statusCode).toBe(401);
  });
});

describe("the end of an admission", () => {
  it("frees the visitor id: once the admission token has expired, the visitor may queue again", async () => {
    const site = await createSite(h, { max_users_per_minute: 60, admission_ttl_seconds: 120 });
    const first = await join(h, site.apiKey, site.queueId, "returning");
    await h.room.engine.releaseDue();
    expect((await status(h, first.token)).status).toBe("released");
    expect((await join(h, site.apiKey, site.queueId, "returning")).token).toBe(first.token); // still admitted
    h.clock.advance(121_000);
    await h.room.engine.expire();
    expect(await h.store.tickets.findBySeq(site.queueId, 1)).toMatchObject({
      status: "expired",
      end_reason: "admission_ended",
    });
    expect((await status(h, first.token)).status).toBe("expired");
    const again = await join(h, site.apiKey, site.queueId, "returning");
    expect(again.token).not.toBe(first.token);
    expect(again).toMatchObject({ status: "waiting", position: 1 });
  });
});

describe("index entries the record disagrees with", () => {
  it("are put right by the expiry round instead of blocking it", async () => {
    const site = await createSite(h, { max_users_per_minute: 1, abandon_after_seconds: 60 });
    const a = await join(h, site.apiKey, site.queueId, "a");
    const b = await join(h, site.apiKey, site.queueId, "b");
    // The record cancelled "a" but the index never heard (a lost update).
    await h.store.db
      .updateTable("tickets")
      .set({ status: "cancelled", end_reason: "cancelled", ended_at: new Date(h.clock.now()).toISOString() })
      .where("queue_id", "=", site.queueId)
      .where("visitor_id", "=", "a")
      .execute();
    h.clock.advance(61_000);
    await status(h, b.token); // b is still here
    await h.room.engine.expire();
    expect((await status(h, a.token)).status).toBe("cancelled");
    expect(await status(h, b.token)).toMatchObject({ status: "waiting", position: 1 });
  });
});

describe("signing key revocation", () => {
  it("revoking the previous keys unpublishes them and their tokens stop verifying", async () => {
    const admin = await h.login("admin@example.com");
    const site = await createSite(h, { max_users_per_minute: 60 });
    await join(h, site.apiKey, site.queueId, "before-revocation");
    await h.room.engine.releaseDue();
    const accessToken = (await h.store.tickets.findBySeq(site.queueId, 1))?.access_token ?? "";
    const check = () =>
      h.app.inject({
        method: "POST",
        url: "/admissions/check",
        headers: { "x-api-key": site.apiKey },
        payload: { access_token: accessToken },
      });
    expect((await check()).statusCode).toBe(200);
    const oldKid = decodeProtectedHeader(accessToken).kid;
    const rotated = await h.app.inject({
      method: "POST",
      url: "/signing-keys/rotate",
      headers: admin,
      payload: { revoke_previous: true },
    });
    expect(rotated.statusCode).toBe(200);
    const jwks = (await h.app.inject({ method: "GET", url: "/.well-known/jwks.json" })).json<{
      keys: { kid: string }[];
    }>();
    expect(jwks.keys.map((key) => key.kid)).toEqual([rotated.json<{ kid: string }>().kid]);
    expect(jwks.keys.map((key) => key.kid)).not.toContain(oldKid);
    expect((await check()).statusCode).toBe(401);
  });
});

describe("signing key rotation", () => {
  it("signs new tokens with the new key and keeps the old one published", async () => {
    const admin = await h.login("admin@example.com");
    const before = (await h.app.inject({ method: "GET", url: "/.well-known/jwks.json" })).json<{
      keys: { kid: string }[];
    }>();
    const rotated = await h.app.inject({ method: "POST", url: "/signing-keys/rotate", headers: admin });
    expect(rotated.statusCode).toBe(200);
    const { kid } = rotated.json<{ kid: string }>();
    const after = (await h.app.inject({ method: "GET", url: "/.well-known/jwks.json" })).json<{
      keys: { kid: string }[];
    }>();
    expect(after.keys.map((key) => key.kid)).toEqual(
      expect.arrayContaining([...before.keys.map((key) => key.kid), kid]),
    );
    const site = await createSite(h, { max_users_per_minute: 60 });
    await join(h, site.apiKey, site.queueId, "after-rotation");
    await h.room.engine.releaseDue();
    const accessToken = (await h.store.tickets.findBySeq(site.queueId, 1))?.access_token ?? "";
    expect(decodeProtectedHeader(accessToken).kid).toBe(kid);
    const viewer = await h.login("viewer@example.com", "viewer");
    expect(
      (await h.app.inject({ method: "POST", url: "/signing-keys/rotate", headers: viewer })).statusCode,
    ).toBe(403);
    expect((await h.app.inject({ method: "POST", url: "/signing-keys/rotate" })).statusCode).toBe(401);
  });
});
