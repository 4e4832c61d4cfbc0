import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSite, type Harness, startHarness } from "../helpers/harness.js";
import { pageJoin, publishableKeyOf } from "../helpers/page-join.js";

let h: Harness;
beforeAll(async () => {
  // 1 a second over 10 s windows: 10 page joins per window and address.
  h = await startHarness({ rateLimits: { pageJoinsPerSecond: 1, keyFailuresPerMinute: 3 } });
});
afterAll(() => h.close());

describe("rate limits on page joins", () => {
  it("limits joins with the publishable key per client address; other addresses and the secret key are not held back", async () => {
    const site = await createSite(h);
    const key = await publishableKeyOf(h, site.appId);
    h.clock.advance(60_000);
    const fromA = (i: number) =>
      pageJoin(h, { key, queueId: site.queueId, visitorId: `a-${i}`, remoteAddress: "192.0.2.10" });
    for (let i = 0; i < 10; i++) expect((await fromA(i)).statusCode, `join ${i}`).toBe(200);
    const refused = await fromA(10);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ error: { code: "rate_limited" } });
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(refused.headers["access-control-allow-origin"]).toBe("*");
    const fromB = await pageJoin(h, {
      key,
      queueId: site.queueId,
      visitorId: "b",
      remoteAddress: "192.0.2.11",
    });
    expect(fromB.statusCode).toBe(200);
    const server = await h.app.inject({
      method: "POST",
      url: "/join",
      headers: { "x-api-key": site.apiKey },
      payload: { queue_id: site.queueId, visitor_id: "server" },
      remoteAddress: "192.0.2.10",
    });
    expect(server.statusCode).toBe(200);
    // The window slides on.
    h.clock.advance(20_000);
    expect((await fromA(11)).statusCode).toBe(200);
  });

  it("gives page joins a per-application budget of their own: a flood of them from many addresses never takes the site's server's joins", async () => {
    const site = await createSite(h, {}, { max_joins_per_second: 2 });
    const key = await publishableKeyOf(h, site.appId);
    h.clock.advance(180_000);
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) {
      const answer = await pageJoin(h, {
        key,
        queueId: site.queueId,
        visitorId: `flood-${i}`,
        remoteAddress: `198.51.100.${i + 1}`,
      });
      codes.push(answer.statusCode);
    }
    expect(codes.filter((code) => code === 200)).toHaveLength(2);
    expect(codes.filter((code) => code === 429)).toHaveLength(4);
    for (const visitor of ["server-1", "server-2"]) {
      const server = await h.app.inject({
        method: "POST",
        url: "/join",
        headers: { "x-api-key": site.apiKey },
        payload: { queue_id: site.queueId, visitor_id: visitor },
      });
      expect(server.statusCode, visitor).toBe(200);
    }
  });

  it("counts unknown publishable keys against the address's key failures; a cached real key keeps working", async () => {
    const site = await createSite(h);
    const key = await publishableKeyOf(h, site.appId);
    h.clock.advance(120_000);
    const address = "192.0.2.20";
    const attempt = (k: string, visitorId = "v") =>
      pageJoin(h, { key: k, queueId: site.queueId, visitorId, remoteAddress: address });
    expect((await attempt(key, "known")).statusCode).toBe(200);
    for (let i = 0; i < 3; i++) expect((await attempt(`pk_guess${i}xxxxxxxxxxxxxxxxx`)).statusCode).toBe(401);
    const refused = await attempt("pk_guess9xxxxxxxxxxxxxxxxx");
    expect(refused.statusCode).toBe(429);
    expect((await attempt(key, "still")).statusCode).toBe(200);
  });
});
