import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSite, type Harness, join, startHarness } from "../helpers/harness.js";

/**
 * Rate limits through the API: per client address (status polls, cancels, the admin API, unknown API
 * keys) and per application (joins, admission checks), answered 429 with Retry-After and the API's error
 * body, on the status fast path too. In the production project the counts also go through Redis.
 */
interface ErrorBody {
  error: { code: string; message: string; request_id: string };
}

const RATE_LIMITED = {
  error: {
    code: "rate_limited",
    message: "too many requests; retry later",
    request_id: expect.any(String),
  },
};

async function listen(h: Harness): Promise<string> {
  await h.app.listen({ port: 0, host: "127.0.0.1" });
  const address = h.app.server.address();
  if (address === null || typeof address === "string") throw new Error("not listening");
  return `http://127.0.0.1:${address.port}`;
}

describe("status polls", () => {
  let h: Harness;
  beforeAll(async () => {
    // The lowest setting allowed (5 a second per address, over ten-second windows).
    h = await startHarness({ rateLimits: { statusPerSecond: 5 } });
  });
  afterAll(() => h.close());

  it("never limit a visitor polling every second, even at the lowest setting", async () => {
    const site = await createSite(h);
    const { token } = await join(h, site.apiKey, site.queueId, "steady");
    for (let second = 0; second < 120; second++) {
      const response = await h.app.inject({
        method: "GET",
        url: `/queue_status?token=${token}`,
        remoteAddress: "198.51.100.20",
      });
      expect(response.statusCode, `poll at ${second} s`).toBe(200);
      h.clock.advance(1_000);
    }
  });

  it("refuse a flood from one address with 429, Retry-After and rate_limited, and not another address", async () => {
    const site = await createSite(h);
    const { token } = await join(h, site.apiKey, site.queueId, "flooded");
    const poll = (remoteAddress: string) =>
      h.app.inject({ method: "GET", url: `/queue_status?token=${token}`, remoteAddress });
    h.clock.advance(60_000); // fresh windows
    let answered = 0;
    for (let i = 0; i < 60; i++) if ((await poll("203.0.113.7")).statusCode === 200) answered += 1;
    expect(answered).toBe(50); // 5 a second over a ten-second window
    const refused = await poll("203.0.113.7");
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(refused.json()).toEqual(RATE_LIMITED);
    expect(refused.json<ErrorBody>().error.request_id).toBe(refused.headers["x-request-id"]);
    expect(refused.headers["access-control-allow-origin"]).toBe("*");

    expect((await poll("203.0.113.8")).statusCode).toBe(200);
    // Within Retry-After and a window, the flooding address is let through again.
    h.clock.advance(20_000);
    expect((await poll("203.0.113.7")).statusCode).toBe(200);
  });

  it("count an IPv6 client by its /64", async () => {
    const site = await createSite(h);
    const { token } = await join(h, site.apiKey, site.queueId, "six");
    const poll = (remoteAddress: string) =>
      h.app.inject({ method: "GET", url: `/queue_status?token=${token}`, remoteAddress });
    h.clock.advance(60_000);
    for (let i = 0; i < 50; i++) await poll(`2001:db8:1:2::${(i + 1).toString(16)}`);
    expect((await poll("2001:db8:1:2:ffff::9")).statusCode).toBe(429);
    expect((await poll("2001:db8:1:3::1")).statusCode).toBe(200);
  });

  it("refuse a flood over the fast path (a real socket) with the same answer", async () => {
    const base = await listen(h);
    const site = await createSite(h);
    const { token } = await join(h, site.apiKey, site.queueId, "socket");
    h.clock.advance(60_000);
    const statuses: number[] = [];
    for (let i = 0; i < 55; i++) {
      const response = await fetch(`${base}/queue_status?token=${token}`);
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    expect(statuses.filter((status) => status === 200)).toHaveLength(50);
    expect(statuses.slice(50)).toEqual([429, 429, 429, 429, 429]);
    const refused = await fetch(`${base}/queue_status?token=${token}`, {
      headers: { "x-request-id": "flood-1" },
    });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get("access-control-allow-origin")).toBe("*");
    expect(refused.headers.get("access-control-expose-headers")?.toLowerCase()).toContain("retry-after");
    expect(refused.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const body = (await refused.json()) as ErrorBody;
    expect(body).toEqual(RATE_LIMITED);
    expect(body.error.request_id).toBe("flood-1");
    // The routed path counts the same address (app.inject comes from 127.0.0.1 too) and answers alike.
    const routed = await h.app.inject({ method: "GET", url: `/queue_status?token=${token}` });
    expect(routed.statusCode).toBe(429);
    expect(routed.json()).toEqual(RATE_LIMITED);
  });
});

describe("joins per application", () => {
  let h: Harness;
  let admin: { authorization: string };
  beforeAll(async () => {
    h = await startHarness({ rateLimits: { joinsPerSecond: 3 } });
    admin = await h.login("admin@example.com");
  });
  afterAll(() => h.close());

  const joinAs = (apiKey: string, queueId: string, remoteAddress = "198.51.100.1") =>
    h.app.inject({
      method: "POST",
      url: "/join",
      headers: { "x-api-key": apiKey },
      payload: { queue_id: queueId, visitor_id: randomUUID() },
      remoteAddress,
    });

  it("follow the default, whatever the address, and let joins through again a second later", async () => {
    const site = await createSite(h);
    h.clock.advance(10_000);
    for (let i = 0; i < 3; i++)
      expect((await joinAs(site.apiKey, site.queueId, `198.51.100.${i}`)).statusCode).toBe(200);
    const refused = await joinAs(site.apiKey, site.queueId, "198.51.100.99");
    expect(refused.statusCode).toBe(429);
    expect(refused.headers["retry-after"]).toBeDefined();
    expect(refused.json()).toEqual(RATE_LIMITED);
    // Another application is not affected.
    const other = await createSite(h, {}, { name: "Other" });
    expect((await joinAs(other.apiKey, other.queueId)).statusCode).toBe(200);
    h.clock.advance(2_000);
    expect((await joinAs(site.apiKey, site.queueId)).statusCode).toBe(200);
  });

  it("follow the application's own max_joins_per_second, and the default again once it is cleared", async () => {
    const site = await createSite(h, {}, { max_joins_per_second: 5 });
    const read = await h.app.inject({ method: "GET", url: `/applications/${site.appId}`, headers: admin });
    expect(read.json()).toMatchObject({ max_joins_per_second: 5 });
    h.clock.advance(10_000);
    for (let i = 0; i < 5; i++) expect((await joinAs(site.apiKey, site.queueId)).statusCode).toBe(200);
    expect((await joinAs(site.apiKey, site.queueId)).statusCode).toBe(429);

    const cleared = await h.app.inject({
      method: "PUT",
      url: `/applications/${site.appId}`,
      headers: admin,
      payload: { max_joins_per_second: null },
    });
    expect(cleared.json()).toMatchObject({ max_joins_per_second: null });
    h.clock.advance(10_000);
    for (let i = 0; i < 3; i++) expect((await joinAs(site.apiKey, site.queueId)).statusCode).toBe(200);
    expect((await joinAs(site.apiKey, site.queueId)).statusCode).toBe(429);
  });
});

describe("other limits", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      rateLimits: {
        keyFailuresPerMinute: 5,
        adminPerSecond: 2,
        cancelsPerSecond: 1,
        admissionChecksPerSecond: 2,
      },
    });
  });
  afterAll(() => h.close());

  it("unknown API keys, per address: each costs a record read, so a spray is refused", async () => {
    const site = await createSite(h);
    h.clock.advance(120_000);
    const spray = (remoteAddress: string, apiKey = `ak_${randomUUID()}`) =>
      h.app.inject({
        method: "POST",
        url: "/join",
        headers: { "x-api-key": apiKey },
        payload: { queue_id: site.queueId, visitor_id: "v" },
        remoteAddress,
      });
    // A known key, cached before the spray, keeps working from the same address (it costs no read).
    expect((await spray("192.0.2.50", site.apiKey)).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) expect((await spray("192.0.2.50")).statusCode).toBe(401);
    const refused = await spray("192.0.2.50");
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual(RATE_LIMITED);
    const check = await h.app.inject({
      method: "POST",
      url: "/admissions/check",
      headers: { "x-api-key": `ak_${randomUUID()}` },
      payload: { access_token: "x" },
      remoteAddress: "192.0.2.50",
    });
    expect(check.statusCode).toBe(429);
    expect((await spray("192.0.2.50", site.apiKey)).statusCode).toBe(200);
    expect((await spray("192.0.2.51")).statusCode).toBe(401);
  });

  it("the admin API, per address, before authentication", async () => {
    const admin = await h.login("admin@example.com");
    h.clock.advance(120_000);
    const list = (remoteAddress: string, headers: Record<string, string> = admin) =>
      h.app.inject({ method: "GET", url: "/applications/", headers, remoteAddress });
    for (let i = 0; i < 20; i++) expect((await list("192.0.2.60")).statusCode).toBe(200);
    const refused = await list("192.0.2.60");
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual(RATE_LIMITED);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect((await list("192.0.2.60", {})).statusCode).toBe(429);
    expect((await list("192.0.2.61", {})).statusCode).toBe(401);
    expect((await list("192.0.2.61")).statusCode).toBe(200);
  });

  it("cancels, per address", async () => {
    const site = await createSite(h);
    h.clock.advance(120_000);
    const tokens: string[] = [];
    for (let i = 0; i < 11; i++) tokens.push((await join(h, site.apiKey, site.queueId, `c${i}`)).token);
    const cancel = (token: string, remoteAddress: string) =>
      h.app.inject({ method: "POST", url: `/cancel?token=${token}`, remoteAddress });
    for (let i = 0; i < 10; i++) expect((await cancel(tokens[i] ?? "", "192.0.2.70")).statusCode).toBe(200);
    const refused = await cancel(tokens[10] ?? "", "192.0.2.70");
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual(RATE_LIMITED);
    expect((await cancel(tokens[10] ?? "", "192.0.2.71")).statusCode).toBe(200);
  });

  it("admission checks, per API key", async () => {
    const site = await createSite(h);
    const other = await createSite(h, {}, { name: "Other" });
    h.clock.advance(120_000);
    const check = (apiKey: string, remoteAddress: string) =>
      h.app.inject({
        method: "POST",
        url: "/admissions/check",
        headers: { "x-api-key": apiKey },
        payload: { access_token: "not-a-jwt" },
        remoteAddress,
      });
    expect((await check(site.apiKey, "192.0.2.80")).statusCode).toBe(401);
    expect((await check(site.apiKey, "192.0.2.81")).statusCode).toBe(401);
    const refused = await check(site.apiKey, "192.0.2.82");
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual(RATE_LIMITED);
    expect((await check(other.apiKey, "192.0.2.80")).statusCode).toBe(401);
  });
});

describe("client address behind a trusted proxy", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ rateLimits: { statusPerSecond: 5 }, trustProxy: "127.0.0.1" });
  });
  afterAll(() => h.close());

  it("is the X-Forwarded-For address the proxy reports, on both paths", async () => {
    const base = await listen(h);
    const site = await createSite(h);
    const { token } = await join(h, site.apiKey, site.queueId, "proxied");
    h.clock.advance(60_000);
    const poll = (client: string) =>
      fetch(`${base}/queue_status?token=${token}`, { headers: { "x-forwarded-for": client } });
    for (let i = 0; i < 50; i++) expect((await poll("203.0.113.30")).status).toBe(200);
    expect((await poll("203.0.113.30")).status).toBe(429);
    expect((await poll("203.0.113.31")).status).toBe(200);
    const routed = await h.app.inject({
      method: "GET",
      url: `/queue_status?token=${token}`,
      headers: { "x-forwarded-for": "203.0.113.30" },
    });
    expect(routed.statusCode).toBe(429);
  });
});
