import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSite, type Harness, join, startHarness } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe("platform routes", () => {
  it("unknown routes are a 404 in the error shape", async () => {
    const response = await h.app.inject({ method: "GET", url: "/no/such/route" });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({
      error: {
        code: "not_found",
        message: expect.stringContaining("/no/such/route"),
        request_id: expect.any(String),
      },
    });
  });

  it("echoes a sane X-Request-Id and replaces an unsafe one", async () => {
    const kept = await h.app.inject({
      method: "GET",
      url: "/healthz",
      headers: { "x-request-id": "abc-123" },
    });
    expect(kept.headers["x-request-id"]).toBe("abc-123");
    const replaced = await h.app.inject({
      method: "GET",
      url: "/healthz",
      headers: { "x-request-id": "<script>" },
    });
    expect(replaced.headers["x-request-id"]).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/);
  });

  it("/healthz is alive and /readyz reports the record", async () => {
    expect((await h.app.inject({ method: "GET", url: "/healthz" })).json()).toEqual({ status: "ok" });
    const ready = await h.app.inject({ method: "GET", url: "/readyz" });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: "ready", checks: { record: { ok: true } } });
  });

  it("serves the OpenAPI document and its page", async () => {
    const spec = await h.app.inject({ method: "GET", url: "/docs/json" });
    expect(spec.statusCode).toBe(200);
    const paths = Object.keys(spec.json<{ paths: Record<string, unknown> }>().paths);
    expect(paths).toEqual(
      expect.arrayContaining(["/applications/", "/applications/{id}", "/queues/", "/auth/token"]),
    );
    const page = await h.app.inject({ method: "GET", url: "/docs" });
    expect([200, 302]).toContain(page.statusCode);
    // Where FastAPI serves it, for clients of the seed.
    const fastApiPath = await h.app.inject({ method: "GET", url: "/openapi.json" });
    expect(fastApiPath.statusCode).toBe(200);
    expect(fastApiPath.json()).toEqual(spec.json());
  });

  it("declares both API key headers, X-API-Key and the seed's app_api_key, on the routes that take a key", async () => {
    const spec = (await h.app.inject({ method: "GET", url: "/docs/json" })).json<{
      components: { securitySchemes: Record<string, { type: string; in: string; name: string }> };
      paths: Record<string, Record<string, { security?: Record<string, unknown>[] }>>;
    }>();
    const schemes = spec.components.securitySchemes;
    expect(schemes.apiKey).toEqual({ type: "apiKey", in: "header", name: "X-API-Key" });
    expect(schemes.appApiKey).toMatchObject({ type: "apiKey", in: "header", name: "app_api_key" });
    for (const path of ["/join", "/admissions/check"]) {
      expect(spec.paths[path]?.post?.security).toEqual([{ apiKey: [] }, { appApiKey: [] }]);
    }
  });

  it("documents the 429 of rate-limited routes", async () => {
    const spec = (await h.app.inject({ method: "GET", url: "/docs/json" })).json<{
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    }>();
    for (const [path, method] of [
      ["/join", "post"],
      ["/queue_status", "get"],
      ["/cancel", "post"],
      ["/admissions/check", "post"],
      ["/applications/", "post"],
      ["/queues/{id}", "put"],
    ] as const) {
      expect(Object.keys(spec.paths[path]?.[method]?.responses ?? {}), `${method} ${path}`).toContain("429");
    }
  });
});

describe("authentication comes before validation", () => {
  const longToken = "A".repeat(600);

  it("POST /admissions/check and POST /join without a key, or with an unknown one, are 401 whatever the body", async () => {
    for (const url of ["/admissions/check", "/join"]) {
      for (const headers of [{}, { "x-api-key": "ak_unknown" }, { app_api_key: "ak_unknown" }]) {
        for (const body of [
          undefined,
          { payload: "", headers: { "content-type": "application/json" } },
          { payload: "{not json", headers: { "content-type": "application/json" } },
          { payload: "text", headers: { "content-type": "text/plain" } },
          { payload: { unexpected: true } },
        ]) {
          const response = await h.app.inject({
            method: "POST",
            url,
            ...(body === undefined ? {} : { payload: body.payload }),
            headers: { ...headers, ...(body?.headers ?? {}) },
          });
          expect(response.statusCode, `${url} ${JSON.stringify(headers)} ${JSON.stringify(body)}`).toBe(401);
          expect(response.json()).toMatchObject({ error: { code: "invalid_api_key" } });
        }
      }
    }
  });

  it("with a valid key, a bad body is still a 400", async () => {
    const site = await createSite(h);
    const response = await h.app.inject({
      method: "POST",
      url: "/admissions/check",
      headers: { "x-api-key": site.apiKey, "content-type": "application/json" },
      payload: "",
    });
    expect(response.statusCode).toBe(400);
    const joined = await h.app.inject({
      method: "POST",
      url: "/join",
      headers: { app_api_key: site.apiKey },
      payload: { queue_id: site.queueId },
    });
    expect(joined.statusCode).toBe(400);
    expect(joined.json()).toMatchObject({ error: { code: "validation_failed", field: "visitor_id" } });
  });

  it("GET /queue_status and POST /cancel with a missing, forged or too long token are 401", async () => {
    for (const query of ["", "?token=forged", `?token=${longToken}`, "?token="]) {
      const status = await h.app.inject({ method: "GET", url: `/queue_status${query}` });
      expect(status.statusCode, `status ${query.slice(0, 20)}`).toBe(401);
      expect(status.json()).toMatchObject({ error: { code: "invalid_token" } });
      const cancel = await h.app.inject({ method: "POST", url: `/cancel${query}` });
      expect(cancel.statusCode, `cancel ${query.slice(0, 20)}`).toBe(401);
      expect(cancel.json()).toMatchObject({ error: { code: "invalid_token" } });
    }
    for (const body of [
      { payload: { token: longToken } },
      { payload: { token: 42 } },
      { payload: "{not json", headers: { "content-type": "application/json" } },
      { payload: "text", headers: { "content-type": "text/plain" } },
    ]) {
      const cancel = await h.app.inject({ method: "POST", url: "/cancel", ...body });
      expect(cancel.statusCode, `cancel ${JSON.stringify(body)}`).toBe(401);
      expect(cancel.json()).toMatchObject({ error: { code: "invalid_token" } });
    }
  });

  it("POST /cancel takes a good token from the query or from the body", async () => {
    const site = await createSite(h);
    const first = await join(h, site.apiKey, site.queueId, "cancel-query");
    const second = await join(h, site.apiKey, site.queueId, "cancel-body");
    const byQuery = await h.app.inject({ method: "POST", url: `/cancel?token=${first.token}` });
    expect(byQuery.json()).toMatchObject({ status: "cancelled" });
    const byBody = await h.app.inject({ method: "POST", url: "/cancel", payload: { token: second.token } });
    expect(byBody.json()).toMatchObject({ status: "cancelled" });
  });
});

describe("readiness when the record is gone", () => {
  it("/readyz is a 503 naming the failed dependency", async () => {
    const local = await startHarness();
    await local.store.close();
    const ready = await local.app.inject({ method: "GET", url: "/readyz" });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: "unavailable", checks: { record: { ok: false } } });
    await local.app.close();
  });
});

describe("media types", () => {
  it("takes form bodies only at the token endpoint", async () => {
    const local = await startHarness();
    try {
      const admin = await local.login("admin@example.com");
      const response = await local.app.inject({
        method: "POST",
        url: "/applications/",
        headers: { ...admin, "content-type": "application/x-www-form-urlencoded" },
        payload: "name=x&domain=x.example.com&callback_url=https%3A%2F%2Fx.example.com%2Fcb",
      });
      expect(response.statusCode).toBe(415);
      expect(response.json()).toMatchObject({ error: { code: "unsupported_media_type" } });
    } finally {
      await local.close();
    }
  });
});
