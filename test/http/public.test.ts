import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSite, type Harness, type Json, startHarness } from "../helpers/harness.js";
import { publishableKeyOf } from "../helpers/page-join.js";

let h: Harness;
let admin: { authorization: string };
beforeAll(async () => {
  h = await startHarness({ rateLimits: { keyFailuresPerMinute: 3 } });
  admin = await h.login("admin@example.com");
});
afterAll(() => h.close());

const lookup = (id: string, remoteAddress = "192.0.2.1") =>
  h.app.inject({ method: "GET", url: `/public/applications/${id}`, remoteAddress });

describe("GET /public/applications/{id}", () => {
  it("answers the publishable key to anyone, cacheable, from any origin, and nothing secret", async () => {
    const site = await createSite(h);
    const response = await lookup(site.appId);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      id: site.appId,
      publishable_key: await publishableKeyOf(h, site.appId),
    });
    expect(response.headers["cache-control"]).toBe("public, max-age=60");
    expect(response.headers["access-control-allow-origin"]).toBe("*");
    for (const secret of [site.apiKey, site.webhookSecret, "callback", "api_key"]) {
      expect(response.body).not.toContain(secret);
    }
  });

  it("is a 404 for an unknown application, and for a deleted one at once", async () => {
    const site = await createSite(h);
    expect((await lookup(site.appId)).statusCode).toBe(200); // now cached
    await h.app.inject({ method: "DELETE", url: `/applications/${site.appId}`, headers: admin });
    const deleted = await lookup(site.appId);
    expect(deleted.statusCode).toBe(404);
    expect(deleted.json()).toMatchObject({ error: { code: "not_found" } });
    expect((await lookup(randomUUID(), "192.0.2.2")).statusCode).toBe(404);
  });

  it("refuses an id that is not a UUID (400 naming id)", async () => {
    const response = await lookup("not-an-id");
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: "validation_failed", field: "id" } });
  });

  it("shows the new key at once after a rotation", async () => {
    const site = await createSite(h);
    expect((await lookup(site.appId)).statusCode).toBe(200);
    const rotated = await h.app.inject({
      method: "POST",
      url: `/applications/${site.appId}/rotate-publishable-key`,
      headers: admin,
    });
    const { publishable_key } = rotated.json<{ publishable_key: string }>();
    expect((await lookup(site.appId)).json()).toEqual({ id: site.appId, publishable_key });
  });

  it("limits lookups of unknown applications per address (each costs a record read); known ones keep answering", async () => {
    const site = await createSite(h);
    h.clock.advance(120_000);
    const address = "192.0.2.30";
    expect((await lookup(site.appId, address)).statusCode).toBe(200);
    for (let i = 0; i < 3; i++) expect((await lookup(randomUUID(), address)).statusCode).toBe(404);
    const refused = await lookup(randomUUID(), address);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ error: { code: "rate_limited" } });
    expect((await lookup(site.appId, address)).statusCode).toBe(200);
    expect((await lookup(randomUUID(), "192.0.2.31")).statusCode).toBe(404);
  });

  it("is in the OpenAPI document", async () => {
    const spec = (await h.app.inject({ method: "GET", url: "/docs/json" })).json<{
      paths: Record<string, Json>;
    }>();
    expect(spec.paths["/public/applications/{id}"]).toBeDefined();
  });
});
