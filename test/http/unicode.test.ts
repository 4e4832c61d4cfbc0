import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSite, type Harness, startHarness } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

/** A JSON body whose text carries `\ud800`-style escapes as sent by a client (JSON.stringify would too). */
const raw = (text: string) => ({ headers: { "content-type": "application/json" }, payload: text });

describe("ill-formed Unicode (unpaired surrogates) in text fields", () => {
  it("is refused at join with a 400 naming the field, and nothing is stored", async () => {
    const site = await createSite(h);
    for (const visitorId of ["\\ud800", "a\\udfff", "x\\udc00y", "\\ud83d"]) {
      const response = await h.app.inject({
        method: "POST",
        url: "/join",
        ...raw(`{"queue_id": "${site.queueId}", "visitor_id": "${visitorId}"}`),
        headers: { "content-type": "application/json", "x-api-key": site.apiKey },
      });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({
        error: { code: "validation_failed", field: "visitor_id" },
      });
    }
    const stored = await h.store.db
      .selectFrom("tickets")
      .select("id")
      .where("queue_id", "=", site.queueId)
      .execute();
    expect(stored).toHaveLength(0);
    // A well-formed pair (an emoji) is fine.
    const ok = await h.app.inject({
      method: "POST",
      url: "/join",
      headers: { "content-type": "application/json", "x-api-key": site.apiKey },
      payload: `{"queue_id": "${site.queueId}", "visitor_id": "\\ud83d\\ude00"}`,
    });
    expect(ok.statusCode).toBe(200);
  });

  it("is refused in admin bodies too (application and queue names, user emails)", async () => {
    const admin = await h.login("admin@example.com");
    const site = await createSite(h);
    const attempts = [
      {
        url: "/applications/",
        method: "POST" as const,
        text: `{"name": "Shop \\ud800", "domain": "shop.example.com", "callback_url": "https://shop.example.com/cb"}`,
        field: "name",
      },
      {
        url: "/queues/",
        method: "POST" as const,
        text: `{"application_id": "${site.appId}", "name": "Q\\udfff", "max_users_per_minute": 5}`,
        field: "name",
      },
      {
        url: "/users/",
        method: "POST" as const,
        text: `{"email": "a\\ud800@example.com", "password": "a-long-enough-password", "role": "viewer"}`,
        field: "email",
      },
      {
        url: `/queues/${site.queueId}`,
        method: "PUT" as const,
        text: `{"redirect_url": "https://shop.example.com/\\ud800"}`,
        field: "redirect_url",
      },
    ];
    for (const attempt of attempts) {
      const response = await h.app.inject({
        method: attempt.method,
        url: attempt.url,
        headers: { ...admin, "content-type": "application/json" },
        payload: attempt.text,
      });
      expect(response.statusCode, attempt.url).toBe(400);
      expect(response.json()).toMatchObject({ error: { code: "validation_failed", field: attempt.field } });
    }
    const apps = await h.app.inject({ method: "GET", url: "/applications/", headers: admin });
    expect(JSON.stringify(apps.json())).not.toContain("\ufffd");
  });
});

describe("deeply nested bodies", () => {
  it("are answered with a 4xx, not a server error", async () => {
    const site = await createSite(h);
    const depth = 30_000;
    const response = await h.app.inject({
      method: "POST",
      url: "/join",
      headers: { "content-type": "application/json", "x-api-key": site.apiKey },
      payload: `{"queue_id": "${site.queueId}", "visitor_id": "v", "extra": ${"[".repeat(depth)}${"]".repeat(depth)}}`,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: "validation_failed" } });
  });
});
