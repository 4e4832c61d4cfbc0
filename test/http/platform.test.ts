import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../helpers/harness.js";

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
