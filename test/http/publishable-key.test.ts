import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSite, type Harness, join, startHarness } from "../helpers/harness.js";
import {
  DEVICE,
  ORIGIN,
  OTHER_DEVICE,
  pageJoin,
  pageJoined,
  publishableKeyOf,
} from "../helpers/page-join.js";

let h: Harness;
let admin: { authorization: string };
beforeAll(async () => {
  h = await startHarness();
  admin = await h.login("admin@example.com");
});
afterAll(() => h.close());

async function pageSite(application: Record<string, unknown> = {}) {
  const site = await createSite(h, {}, application);
  return { ...site, key: await publishableKeyOf(h, site.appId) };
}

async function tickets(queueId: string) {
  return h.store.db.selectFrom("tickets").selectAll().where("queue_id", "=", queueId).execute();
}

describe("POST /join with the publishable key: origins", () => {
  it("is accepted from the application's domain; the ticket keeps the device secret's SHA-256, never the secret", async () => {
    const site = await pageSite();
    expect(site.key).toMatch(/^pk_[\w-]+$/);
    const joined = await pageJoined(h, { key: site.key, queueId: site.queueId, visitorId: "v1" });
    expect(joined).toMatchObject({ status: "waiting", position: 1 });
    const [row] = await tickets(site.queueId);
    expect(row?.device_hash).toBe(createHash("sha256").update(DEVICE).digest("hex"));
    expect(JSON.stringify(row)).not.toContain(DEVICE);
  });

  it("is accepted from a subdomain only under policy subdomains, which applies at once", async () => {
    const site = await pageSite();
    const fromWww = {
      key: site.key,
      queueId: site.queueId,
      visitorId: "w",
      origin: "https://www.shop.example.com",
    };
    const refused = await pageJoin(h, fromWww);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: { code: "origin_not_allowed" } });
    const put = await h.app.inject({
      method: "PUT",
      url: `/applications/${site.appId}`,
      headers: admin,
      payload: { origin_policy: "subdomains" },
    });
    expect(put.statusCode).toBe(200);
    expect((await pageJoin(h, fromWww)).statusCode).toBe(200);
    expect((await pageJoin(h, { ...fromWww, visitorId: "apex", origin: ORIGIN })).statusCode).toBe(200);
    // Look-alikes are not subdomains.
    for (const origin of [
      "https://shop.example.com.evil.test",
      "https://evilshop.example.com",
      "https://example.com",
    ]) {
      const response = await pageJoin(h, { ...fromWww, visitorId: origin, origin });
      expect(response.statusCode, origin).toBe(403);
    }
  });

  it("is refused from another origin, without an Origin, from an opaque origin and over http, storing nothing", async () => {
    const site = await pageSite();
    for (const origin of [
      "https://evil.example",
      null,
      "null",
      "http://shop.example.com",
      "https://shop.example.com:8443x",
    ]) {
      const response = await pageJoin(h, { key: site.key, queueId: site.queueId, visitorId: "v", origin });
      expect(response.statusCode, String(origin)).toBe(403);
      expect(response.json()).toMatchObject({ error: { code: "origin_not_allowed" } });
      expect(response.body).not.toContain('token"');
    }
    expect(await tickets(site.queueId)).toHaveLength(0);
  });

  it("accepts plain http from a local domain (development and tests)", async () => {
    const site = await pageSite({ domain: "localhost" });
    const response = await pageJoin(h, {
      key: site.key,
      queueId: site.queueId,
      visitorId: "dev",
      origin: "http://localhost:5173",
    });
    expect(response.statusCode).toBe(200);
  });

  it("follows a change of domain at once (the cached key is evicted)", async () => {
    const site = await pageSite();
    await h.app.inject({
      method: "PUT",
      url: `/applications/${site.appId}`,
      headers: admin,
      payload: { domain: "store.example.org" },
    });
    const old = await pageJoin(h, { key: site.key, queueId: site.queueId, visitorId: "v" });
    expect(old.statusCode).toBe(403);
    const moved = await pageJoin(h, {
      key: site.key,
      queueId: site.queueId,
      visitorId: "v",
      origin: "https://store.example.org",
    });
    expect(moved.statusCode).toBe(200);
  });
});

describe("POST /join with the publishable key: the device", () => {
  it("is required: a missing or malformed X-Anteroom-Device is a 400 device_required naming it", async () => {
    const site = await pageSite();
    for (const device of [
      null,
      "",
      "x".repeat(21),
      "x".repeat(129),
      "has spaces in it 0123456",
      "dots.are.not.allowed.0123",
    ]) {
      const response = await pageJoin(h, { key: site.key, queueId: site.queueId, visitorId: "v", device });
      expect(response.statusCode, String(device)).toBe(400);
      expect(response.json()).toMatchObject({
        error: { code: "device_required", field: "X-Anteroom-Device" },
      });
    }
    expect(await tickets(site.queueId)).toHaveLength(0);
    for (const device of ["a".repeat(22), `${"Az09_-".repeat(21)}ab`]) {
      const response = await pageJoin(h, { key: site.key, queueId: site.queueId, visitorId: device, device });
      expect(response.statusCode, device).toBe(200);
    }
  });

  it("refuses a second device for a visitor in line: 409 conflict, and never the first browser's token", async () => {
    const site = await pageSite();
    const first = await pageJoined(h, { key: site.key, queueId: site.queueId, visitorId: "shared" });
    const stolen = await pageJoin(h, {
      key: site.key,
      queueId: site.queueId,
      visitorId: "shared",
      device: OTHER_DEVICE,
    });
    expect(stolen.statusCode).toBe(409);
    expect(stolen.json()).toMatchObject({ error: { code: "conflict" } });
    expect(stolen.body).not.toContain(first.token);
    // The same browser keeps its place.
    const again = await pageJoined(h, { key: site.key, queueId: site.queueId, visitorId: "shared" });
    expect(again).toMatchObject({ token: first.token, position: 1 });
    expect(await tickets(site.queueId)).toHaveLength(1);
  });

  it("refuses in the same way when two devices race for one visitor", async () => {
    const site = await pageSite();
    const answers = await Promise.all(
      [DEVICE, OTHER_DEVICE, DEVICE, OTHER_DEVICE].map((device) =>
        pageJoin(h, { key: site.key, queueId: site.queueId, visitorId: "race", device }),
      ),
    );
    const codes = answers.map((answer) => answer.statusCode).sort();
    expect(codes).toEqual([200, 200, 409, 409]);
    expect(
      new Set(answers.filter((a) => a.statusCode === 200).map((a) => a.json<{ token: string }>().token)).size,
    ).toBe(1);
  });

  it("refuses a page join of a visitor the site's server put in line", async () => {
    const site = await pageSite();
    const server = await join(h, site.apiKey, site.queueId, "from-server");
    const page = await pageJoin(h, { key: site.key, queueId: site.queueId, visitorId: "from-server" });
    expect(page.statusCode).toBe(409);
    expect(page.body).not.toContain(server.token);
  });

  it("never hands the site's server (secret key) a place a page took under its visitor's id: the page's place ends, the server's visitor gets their own", async () => {
    const site = await pageSite();
    // Someone who knows (or guesses) the id joins first with the public key from a script.
    const squatter = await pageJoined(h, { key: site.key, queueId: site.queueId, visitorId: "alice" });
    const server = await join(h, site.apiKey, site.queueId, "alice");
    expect(server.token).not.toBe(squatter.token);
    expect(server).toMatchObject({ status: "waiting", position: 1 });
    const squatted = await h.app.inject({ method: "GET", url: `/queue_status?token=${squatter.token}` });
    expect(squatted.json()).toMatchObject({ status: "cancelled" });
    // Released, the admission goes to the server's visitor's token only.
    await h.room.engine.releaseDue();
    const released = await h.app.inject({ method: "GET", url: `/queue_status?token=${server.token}` });
    expect(released.json()).toMatchObject({ status: "released", access_token: expect.any(String) });
    const still = await h.app.inject({ method: "GET", url: `/queue_status?token=${squatter.token}` });
    expect(still.json()).toMatchObject({ status: "cancelled" });
    expect(still.body).not.toContain("access_token");
    // The squatter cannot take the id back from a page, nor does the server's next join change places.
    const back = await pageJoin(h, { key: site.key, queueId: site.queueId, visitorId: "alice" });
    expect(back.statusCode).toBe(409);
    expect((await join(h, site.apiKey, site.queueId, "alice")).token).toBe(server.token);
  });

  it("refuses the site's server an id a page was already admitted under (409), without touching that admission", async () => {
    const site = await pageSite();
    const page = await pageJoined(h, { key: site.key, queueId: site.queueId, visitorId: "early" });
    await h.room.engine.releaseDue();
    const server = await h.app.inject({
      method: "POST",
      url: "/join",
      headers: { "x-api-key": site.apiKey },
      payload: { queue_id: site.queueId, visitor_id: "early" },
    });
    expect(server.statusCode).toBe(409);
    expect(server.json()).toMatchObject({ error: { code: "conflict" } });
    expect(server.body).not.toContain(page.token);
  });
});

describe("keys in the wrong place", () => {
  it("refuses the secret key from a browser (an Origin header): 403 secret_key_in_browser, pointing to the publishable key", async () => {
    const site = await pageSite();
    for (const url of ["/join", "/admissions/check"]) {
      const response = await h.app.inject({
        method: "POST",
        url,
        headers: { "x-api-key": site.apiKey, origin: ORIGIN },
        payload: { queue_id: site.queueId, visitor_id: "v" },
      });
      expect(response.statusCode, url).toBe(403);
      const body = response.json<{ error: { code: string; message: string } }>();
      expect(body.error.code).toBe("secret_key_in_browser");
      expect(body.error.message).toContain("publishable key");
    }
    expect(await tickets(site.queueId)).toHaveLength(0);
  });

  it("never takes the publishable key for an admission check", async () => {
    const site = await pageSite();
    const response = await h.app.inject({
      method: "POST",
      url: "/admissions/check",
      headers: { "x-api-key": site.key },
      payload: { access_token: "x" },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ error: { code: "invalid_api_key" } });
  });

  it("refuses an unknown, a rotated and a deleted application's publishable key (401)", async () => {
    const site = await pageSite();
    const attempt = (key: string) => pageJoin(h, { key, queueId: site.queueId, visitorId: "v" });
    expect((await attempt("pk_unknown0123456789abcdef")).json()).toMatchObject({
      error: { code: "invalid_api_key" },
    });
    expect((await attempt(site.key)).statusCode).toBe(200); // now cached
    const rotated = await h.app.inject({
      method: "POST",
      url: `/applications/${site.appId}/rotate-publishable-key`,
      headers: admin,
    });
    expect(rotated.statusCode).toBe(200);
    const fresh = rotated.json<{ id: string; publishable_key: string }>();
    expect(fresh).toEqual({ id: site.appId, publishable_key: expect.stringMatching(/^pk_/) });
    expect(fresh.publishable_key).not.toBe(site.key);
    expect((await attempt(site.key)).statusCode).toBe(401);
    expect((await attempt(fresh.publishable_key)).statusCode).toBe(200);
    await h.app.inject({ method: "DELETE", url: `/applications/${site.appId}`, headers: admin });
    expect((await attempt(fresh.publishable_key)).statusCode).toBe(401);
  });

  it("lets pages send X-Anteroom-Device (CORS preflight)", async () => {
    const preflight = await h.app.inject({
      method: "OPTIONS",
      url: "/join",
      headers: {
        origin: ORIGIN,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, x-api-key, x-anteroom-device",
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(String(preflight.headers["access-control-allow-headers"])).toContain("x-anteroom-device");
  });
});
