import { randomUUID } from "node:crypto";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdmissionKeys } from "../../src/services/admission-keys.js";
import { createSite, type Harness, type JoinBody, join, startHarness, status } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

async function joinMany(apiKey: string, queueId: string, prefix: string, count: number): Promise<JoinBody[]> {
  const joined: JoinBody[] = [];
  for (let start = 0; start < count; start += 200) {
    const batch = Array.from({ length: Math.min(200, count - start) }, (_, i) =>
      join(h, apiKey, queueId, `${prefix}-${start + i}`),
    );
    joined.push(...(await Promise.all(batch)));
  }
  return joined;
}

async function releasedIn(queueId: string) {
  return h.store.db
    .selectFrom("tickets")
    .select(["visitor_id", "seq", "released_at"])
    .where("queue_id", "=", queueId)
    .where("status", "in", ["released", "expired"])
    .where("released_at", "is not", null)
    .orderBy("released_at")
    .orderBy("seq")
    .execute();
}

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
    const released = await releasedIn(site.queueId);
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

  it("keeps the configured rate with a worker that wakes late or stalls: never more than rate + 1 in any 60 s, within 1% over 10 minutes", async () => {
    // A harness of its own, so other tests' queues do not add work to each of the ~4000 ticks.
    const outer = h;
    h = await startHarness();
    try {
      await checkRate();
    } finally {
      await h.close();
      h = outer;
    }
  }, 180_000); // ~3,000 release rounds, each a real transaction (PostgreSQL is the slower of the two)

  async function checkRate(): Promise<void> {
    const rate = 120;
    const site = await createSite(h, { max_users_per_minute: rate });
    await joinMany(site.apiKey, site.queueId, "rate", rate * 10 + 60);
    const start = h.clock.now();
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    let stalls = 0;
    while (h.clock.now() < start + 600_000) {
      await h.room.engine.releaseDue();
      // Ticks 20-250 ms apart, like the loop's, and now and then a worker stalled for 1-3 s.
      const stalled = random() < 0.005;
      if (stalled) stalls++;
      h.clock.advance(stalled ? 1_000 + Math.floor(random() * 2_000) : 20 + Math.floor(random() * 230));
    }
    await h.room.engine.releaseDue(); // the last stall made up
    expect(stalls).toBeGreaterThan(5);
    const times = (await releasedIn(site.queueId)).map((row) => Date.parse(row.released_at ?? ""));
    let worst = 0;
    for (let lo = 0, hi = 0; hi < times.length; hi++) {
      while ((times[hi] ?? 0) - (times[lo] ?? 0) >= 60_000) lo++;
      worst = Math.max(worst, hi - lo + 1);
    }
    expect(worst).toBeLessThanOrEqual(rate + 1);
    expect(Math.abs(times.length - rate * 10)).toBeLessThanOrEqual(rate * 10 * 0.01);
  }

  it("makes up at once the releases a stalled worker missed, but gives a queue that was idle no burst", async () => {
    const site = await createSite(h, { max_users_per_minute: 120 });
    await joinMany(site.apiKey, site.queueId, "stall", 40);
    await h.room.engine.releaseDue();
    h.clock.advance(500);
    await h.room.engine.releaseDue();
    expect(await releasedIn(site.queueId)).toHaveLength(2);
    // The worker wakes 5 s late: the ten slots since are released together.
    h.clock.advance(5_000);
    await h.room.engine.releaseDue();
    const afterStall = await releasedIn(site.queueId);
    expect(afterStall).toHaveLength(12);
    expect(afterStall.filter((row) => row.released_at === afterStall.at(-1)?.released_at)).toHaveLength(10);

    // Drain the queue, leave it idle for 30 s, then a crowd arrives: one at a time, at the rate.
    for (let i = 0; i < 60 && (await releasedIn(site.queueId)).length < 40; i++) {
      h.clock.advance(500);
      await h.room.engine.releaseDue();
    }
    expect(await releasedIn(site.queueId)).toHaveLength(40);
    h.clock.advance(30_000);
    await h.room.engine.releaseDue();
    await joinMany(site.apiKey, site.queueId, "crowd", 20);
    await h.room.engine.releaseDue();
    expect(await releasedIn(site.queueId)).toHaveLength(41);
    h.clock.advance(500);
    await h.room.engine.releaseDue();
    expect(await releasedIn(site.queueId)).toHaveLength(42);
  });

  it("estimates the wait from the measured rate, not only the configured one", async () => {
    // The queue allows 120 a minute, but its application's shared intake lets only 30 a minute through.
    const site = await createSite(h, { max_users_per_minute: 120 }, { max_users_per_minute: 30 });
    const visitors = await joinMany(site.apiKey, site.queueId, "eta", 199);
    visitors.push(await join(h, site.apiKey, site.queueId, "eta-last")); // surely last in line
    for (let elapsed = 0; elapsed < 120_000; elapsed += 250) {
      await h.room.engine.releaseDue();
      h.clock.advance(250);
    }
    const last = visitors.at(-1);
    if (last === undefined) throw new Error("no visitor");
    const body = await status(h, last.token);
    const position = body.position ?? 0;
    expect(position).toBe(200 - 60);
    // At the measured 30 a minute, not the queue's 120: about two seconds a place.
    expect(body.estimated_wait_seconds).toBeGreaterThan(position * 1.8);
    expect(body.estimated_wait_seconds).toBeLessThan(position * 2.2);
  });
});

describe("priority and shared application intake", () => {
  it("serves the higher-priority queue first from the shared intake, each within its own rate", async () => {
    const site = await createSite(
      h,
      { max_users_per_minute: 60, priority: 10, name: "VIP" },
      { max_users_per_minute: 60 },
    );
    const admin = await h.login("admin@example.com");
    const low = await h.app.inject({
      method: "POST",
      url: "/queues/",
      headers: admin,
      payload: { application_id: site.appId, name: "General", max_users_per_minute: 60, priority: 1 },
    });
    const lowId = low.json<{ id: string }>().id;
    await h.room.engine.refresh();
    await joinMany(site.apiKey, site.queueId, "vip", 30);
    await joinMany(site.apiKey, lowId, "general", 100);
    for (let elapsed = 0; elapsed < 60_000; elapsed += 100) {
      await h.room.engine.releaseDue();
      h.clock.advance(100);
    }
    // One minute at 60 a minute: the VIP queue's 30 go first, the rest of the intake goes to General.
    const vip = (await releasedIn(site.queueId)).length;
    const general = (await releasedIn(lowId)).length;
    expect(vip).toBe(30);
    expect(general).toBeGreaterThanOrEqual(29);
    expect(vip + general).toBeLessThanOrEqual(61);
    const firstGeneral = (await releasedIn(lowId))[0];
    const lastVip = (await releasedIn(site.queueId)).at(-1);
    expect(Date.parse(firstGeneral?.released_at ?? "")).toBeGreaterThan(
      Date.parse(lastVip?.released_at ?? ""),
    );
  });

  it("without a shared intake, queues release at their own rates independently", async () => {
    const site = await createSite(h, { max_users_per_minute: 60, priority: 10 });
    const admin = await h.login("admin@example.com");
    const other = await h.app.inject({
      method: "POST",
      url: "/queues/",
      headers: admin,
      payload: { application_id: site.appId, name: "Other", max_users_per_minute: 30, priority: 1 },
    });
    const otherId = other.json<{ id: string }>().id;
    await h.room.engine.refresh();
    await joinMany(site.apiKey, site.queueId, "ind-a", 100);
    await joinMany(site.apiKey, otherId, "ind-b", 100);
    for (let elapsed = 0; elapsed < 60_000; elapsed += 100) {
      await h.room.engine.releaseDue();
      h.clock.advance(100);
    }
    expect((await releasedIn(site.queueId)).length).toBeGreaterThanOrEqual(60);
    expect((await releasedIn(site.queueId)).length).toBeLessThanOrEqual(61);
    expect((await releasedIn(otherId)).length).toBeGreaterThanOrEqual(30);
    expect((await releasedIn(otherId)).length).toBeLessThanOrEqual(31);
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

  it("a revocation waits for a release in progress, so no token is committed under a revoked key", async () => {
    const site = await createSite(h, { max_users_per_minute: 60 });
    await join(h, site.apiKey, site.queueId, "in-flight");
    const other = new AdmissionKeys(h.store.signingKeys, h.keys.atRest, h.clock, "anteroom-test");
    await other.init();
    let signedWith: string | undefined;
    let entered: () => void = () => {};
    const signing = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let leave: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      leave = resolve;
    });
    const release = h.store.releases.releaseApplication({
      applicationId: site.appId,
      queueIds: [site.queueId],
      now: h.clock.now(),
      plan: () => ({ counts: new Map([[site.queueId, 1]]), states: () => new Map() }),
      admit: async (_ticket, key) => {
        signedWith = key.kid;
        entered();
        await gate;
        return {
          accessToken: `signed-by-${key.kid}`,
          outbox: { id: randomUUID(), payload: "{}", status: "simulated" },
        };
      },
    });
    await Promise.race([signing, release]);
    let revoked = false;
    const revocation = other.rotate({ revoke: true }).then(() => {
      revoked = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(revoked).toBe(false);
    leave();
    expect((await release)?.released).toHaveLength(1);
    await revocation;
    const keys = await h.store.signingKeys.list();
    expect(keys.find((key) => key.kid === signedWith)?.revoked_at).not.toBeNull();
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
