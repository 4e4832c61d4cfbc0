import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { VisitorTokens } from "../../src/domain/visitor-token.js";
import { createSite, type Harness, type JoinBody, join, startHarness, status } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

async function ticketCount(queueId: string): Promise<number> {
  const row = await h.store.db
    .selectFrom("tickets")
    .select((eb) => eb.fn.countAll().as("n"))
    .where("queue_id", "=", queueId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

describe("POST /join", () => {
  it("puts visitors in line with exact positions, a token, an estimate and a poll interval", async () => {
    const site = await createSite(h, { max_users_per_minute: 30 });
    const first = await join(h, site.apiKey, site.queueId, "alice");
    expect(first).toMatchObject({ status: "waiting", position: 1, users_ahead: 0, queue_size: 1 });
    expect(first.token).toMatch(/^[\w-]{52}$/);
    expect(first.estimated_wait_seconds).toBe(2); // 1 ahead-or-me at 30 a minute
    expect(first.poll_after_seconds).toBeGreaterThanOrEqual(2);
    const second = await join(h, site.apiKey, site.queueId, "bob");
    expect(second).toMatchObject({ position: 2, users_ahead: 1, queue_size: 2, estimated_wait_seconds: 4 });
  });

  it("accepts the key in the seed's app_api_key header too", async () => {
    const site = await createSite(h);
    const response = await h.app.inject({
      method: "POST",
      url: "/join",
      headers: { app_api_key: site.apiKey },
      payload: { queue_id: site.queueId, visitor_id: "v1" },
    });
    expect(response.statusCode).toBe(200);
  });

  it("is idempotent per visitor: the same place and a valid token, never a second place", async () => {
    const site = await createSite(h);
    await join(h, site.apiKey, site.queueId, "a");
    const first = await join(h, site.apiKey, site.queueId, "b");
    const again = await join(h, site.apiKey, site.queueId, "b");
    expect(again.position).toBe(2);
    expect((await status(h, again.token)).position).toBe(2);
    expect(again.token).toBe(first.token);
    expect(await ticketCount(site.queueId)).toBe(2);
  });

  it("gives one place to 100 concurrent joins of one visitor", async () => {
    const site = await createSite(h);
    await join(h, site.apiKey, site.queueId, "someone-else");
    const results = await Promise.all(
      Array.from({ length: 100 }, () => join(h, site.apiKey, site.queueId, "eager")),
    );
    expect(new Set(results.map((r) => r.token)).size).toBe(1);
    expect(results.every((r) => r.position === 2)).toBe(true);
    expect(await ticketCount(site.queueId)).toBe(2);
  });

  it("refuses a bad key (401), another application's queue, a deleted queue or application (404), storing nothing", async () => {
    const site = await createSite(h);
    const other = await createSite(h);
    const admin = await h.login("admin@example.com");
    const attempt = (apiKey: string, queueId: string) =>
      h.app.inject({
        method: "POST",
        url: "/join",
        headers: { "x-api-key": apiKey },
        payload: { queue_id: queueId, visitor_id: "x" },
      });
    const badKey = await attempt("ak_nope", site.queueId);
    expect(badKey.statusCode).toBe(401);
    expect(badKey.json()).toMatchObject({ error: { code: "invalid_api_key" } });
    const noKey = await h.app.inject({
      method: "POST",
      url: "/join",
      payload: { queue_id: site.queueId, visitor_id: "x" },
    });
    expect(noKey.statusCode).toBe(401);
    const foreign = await attempt(other.apiKey, site.queueId);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json()).toMatchObject({ error: { code: "not_found" } });

    await h.app.inject({ method: "DELETE", url: `/queues/${site.queueId}`, headers: admin });
    expect((await attempt(site.apiKey, site.queueId)).statusCode).toBe(404);
    await h.app.inject({ method: "DELETE", url: `/applications/${other.appId}`, headers: admin });
    expect((await attempt(other.apiKey, other.queueId)).statusCode).toBe(401);
    expect(await ticketCount(site.queueId)).toBe(0);
    expect(await ticketCount(other.queueId)).toBe(0);
  });

  it("refuses the old key right after a rotation", async () => {
    const site = await createSite(h);
    await join(h, site.apiKey, site.queueId, "before");
    const admin = await h.login("admin@example.com");
    const rotated = await h.app.inject({
      method: "POST",
      url: `/applications/${site.appId}/rotate-key`,
      headers: admin,
    });
    const newKey = rotated.json<{ api_key: string }>().api_key;
    const old = await h.app.inject({
      method: "POST",
      url: "/join",
      headers: { "x-api-key": site.apiKey },
      payload: { queue_id: site.queueId, visitor_id: "after" },
    });
    expect(old.statusCode).toBe(401);
    expect((await join(h, newKey, site.queueId, "after")).position).toBe(2);
  });

  it.each([
    [{ queue_id: "not-a-uuid", visitor_id: "v" }, "queue_id"],
    [{ visitor_id: "v" }, "queue_id"],
    [{ queue_id: "00000000-0000-4000-8000-000000000000" }, "visitor_id"],
    [{ queue_id: "00000000-0000-4000-8000-000000000000", visitor_id: "" }, "visitor_id"],
    [{ queue_id: "00000000-0000-4000-8000-000000000000", visitor_id: "x".repeat(201) }, "visitor_id"],
    [{ queue_id: "00000000-0000-4000-8000-000000000000", visitor_id: "tab\there" }, "visitor_id"],
    [{ queue_id: "00000000-0000-4000-8000-000000000000", visitor_id: 42 }, "visitor_id"],
  ])("bad body %j is a 400 naming %s", async (payload, field) => {
    // With a valid key: without one the answer is 401 whatever the body (authentication comes first).
    const site = await createSite(h);
    const response = await h.app.inject({
      method: "POST",
      url: "/join",
      headers: { "x-api-key": site.apiKey },
      payload,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: "validation_failed", field } });
  });
});

describe("GET /queue_status", () => {
  it("refuses forged, altered, foreign and missing tokens with 401, touching neither index nor record", async () => {
    const site = await createSite(h);
    const { token } = await join(h, site.apiKey, site.queueId, "v");
    const poll = vi.spyOn(h.room.index, "poll");
    const find = vi.spyOn(h.store.tickets, "findBySeq");
    const altered = `${token.slice(0, 30)}${token[30] === "A" ? "B" : "A"}${token.slice(31)}`;
    const foreign = new VisitorTokens(Buffer.alloc(32, 7)).issue({ queueId: site.queueId, seq: 1 });
    for (const bad of [altered, foreign, "garbage", "", `${token}x`]) {
      const response = await h.app.inject({
        method: "GET",
        url: `/queue_status?token=${encodeURIComponent(bad)}`,
      });
      expect(response.statusCode, bad).toBe(401);
      expect(response.json()).toMatchObject({ error: { code: "invalid_token" } });
    }
    expect((await h.app.inject({ method: "GET", url: "/queue_status" })).statusCode).toBe(401);
    expect(poll).not.toHaveBeenCalled();
    expect(find).not.toHaveBeenCalled();
    poll.mockRestore();
    find.mockRestore();
  });

  it("answers from the hot index alone, with no record query", async () => {
    const site = await createSite(h);
    const { token } = await join(h, site.apiKey, site.queueId, "v");
    await h.room.engine.refresh();
    const query = vi.spyOn(h.store.db, "selectFrom");
    expect((await status(h, token)).position).toBe(1);
    expect(query).not.toHaveBeenCalled();
    query.mockRestore();
  });

  it("allows browsers on the site's origin to call it (CORS)", async () => {
    const preflight = await h.app.inject({
      method: "OPTIONS",
      url: "/join",
      headers: { origin: "https://shop.example.com", "access-control-request-method": "POST" },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBe("*");
    expect(String(preflight.headers["access-control-allow-headers"])).toContain("x-api-key");
  });
});

describe("POST /cancel", () => {
  it("gives up the place and everyone behind moves up; token by query or body", async () => {
    const site = await createSite(h);
    const tokens: JoinBody[] = [];
    for (const id of ["a", "b", "c", "d"]) tokens.push(await join(h, site.apiKey, site.queueId, id));
    const [a, b, c, d] = tokens;
    if (!a || !b || !c || !d) throw new Error("joins failed");
    const byQuery = await h.app.inject({ method: "POST", url: `/cancel?token=${a.token}` });
    expect(byQuery.statusCode).toBe(200);
    expect(byQuery.json()).toMatchObject({ status: "cancelled", position: null });
    const byBody = await h.app.inject({ method: "POST", url: "/cancel", payload: { token: c.token } });
    expect(byBody.json()).toMatchObject({ status: "cancelled" });
    expect((await status(h, b.token)).position).toBe(1);
    expect((await status(h, d.token)).position).toBe(2);
    expect((await status(h, a.token)).status).toBe("cancelled");
    const again = await h.app.inject({ method: "POST", url: `/cancel?token=${a.token}` });
    expect(again.json()).toMatchObject({ status: "cancelled" });
    expect((await h.app.inject({ method: "POST", url: "/cancel?token=forged" })).statusCode).toBe(401);
  });

  it("lets a visitor who cancelled join again, at the back", async () => {
    const site = await createSite(h);
    const first = await join(h, site.apiKey, site.queueId, "fickle");
    await join(h, site.apiKey, site.queueId, "steady");
    await h.app.inject({ method: "POST", url: `/cancel?token=${first.token}` });
    const back = await join(h, site.apiKey, site.queueId, "fickle");
    expect(back.token).not.toBe(first.token);
    expect(back.position).toBe(2);
  });
});
