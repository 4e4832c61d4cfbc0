import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, PASSWORD, startHarness } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.login("admin@example.com");
});
afterAll(() => h.close());

const form = (fields: Record<string, string>) => ({
  method: "POST" as const,
  url: "/auth/token",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  payload: new URLSearchParams(fields).toString(),
});

describe("POST /auth/token (OAuth2 password grant)", () => {
  it("issues a bearer token for a form body", async () => {
    const response = await h.app.inject(
      form({ grant_type: "password", username: "ADMIN@example.com", password: PASSWORD }),
    );
    expect(response.statusCode).toBe(200);
    expect(response.headers["cache-control"]).toBe("no-store");
    const body = response.json<{ access_token: string; token_type: string; expires_in: number }>();
    expect(body).toMatchObject({ token_type: "bearer", expires_in: 3600 });
    const me = await h.app.inject({
      method: "GET",
      url: "/auth/me",
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(me.json()).toMatchObject({ email: "admin@example.com", role: "admin" });
  });

  it("answers RFC 6749 errors", async () => {
    const wrong = await h.app.inject(
      form({ grant_type: "password", username: "admin@example.com", password: "nope" }),
    );
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toEqual({ error: "invalid_grant", error_description: expect.any(String) });
    const unknown = await h.app.inject(
      form({ grant_type: "password", username: "ghost@example.com", password: "x" }),
    );
    expect(unknown.json()).toMatchObject({ error: "invalid_grant" });
    const grant = await h.app.inject(
      form({ grant_type: "client_credentials", username: "a", password: "b" }),
    );
    expect(grant.json()).toMatchObject({ error: "unsupported_grant_type" });
    const missing = await h.app.inject(form({ grant_type: "password" }));
    expect(missing.json()).toMatchObject({ error: "invalid_request" });
    const empty = await h.app.inject({ method: "POST", url: "/auth/token" });
    expect(empty.statusCode).toBe(400);
    const nul = await h.app.inject(
      form({ grant_type: "password", username: "ad\u0000min@example.com", password: "x" }),
    );
    expect(nul.statusCode).toBe(400);
    expect(nul.json()).toMatchObject({ error: "invalid_grant" });
  });

  it("answers unsupported_grant_type for another grant even without username and password (RFC 6749 §5.2)", async () => {
    const bodies: Record<string, string>[] = [
      { grant_type: "client_credentials" },
      { grant_type: "authorization_code", code: "x" },
      { grant_type: "refresh_token", refresh_token: "x", username: "a@b.co" },
    ];
    for (const fields of bodies) {
      const response = await h.app.inject(form(fields));
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        error: "unsupported_grant_type",
        error_description: expect.any(String),
      });
    }
    const json = await h.app.inject({
      method: "POST",
      url: "/auth/token",
      payload: { grant_type: "client_credentials" },
    });
    expect(json.json()).toMatchObject({ error: "unsupported_grant_type" });
    const missing = await h.app.inject(form({ username: "a@b.co", password: "x" }));
    expect(missing.json()).toMatchObject({ error: "invalid_request" });
  });

  it("refuses a username over 254 or a password over 1024 characters as invalid_request, counting nothing", async () => {
    const local = await startHarness();
    try {
      await local.login("long@example.com", "viewer");
      // More than any login limit allows: none of these may count, or the owner below would be refused.
      for (let attempt = 0; attempt < 60; attempt++) {
        const fields =
          attempt % 2 === 0
            ? { grant_type: "password", username: `${"a".repeat(250)}@b.co`, password: "x" }
            : { grant_type: "password", username: "long@example.com", password: "p".repeat(1025) };
        const response = await local.app.inject(form(fields));
        expect(response.statusCode).toBe(400);
        expect(response.json()).toEqual({ error: "invalid_request", error_description: expect.any(String) });
      }
      const owner = await local.app.inject(
        form({ grant_type: "password", username: "long@example.com", password: PASSWORD }),
      );
      expect(owner.statusCode).toBe(200);
      const longest = await local.app.inject(
        form({ grant_type: "password", username: "long@example.com", password: "p".repeat(1024) }),
      );
      expect(longest.json()).toMatchObject({ error: "invalid_grant" });
    } finally {
      await local.close();
    }
  });
});

/** Every string schema under a request part (parameters, bodies) that accepts free text. */
function unboundedStrings(schema: unknown, at: string, found: string[]): void {
  if (typeof schema !== "object" || schema === null) return;
  const node = schema as Record<string, unknown>;
  const types = Array.isArray(node.type) ? node.type : [node.type];
  if (types.includes("string") && node.const === undefined && node.enum === undefined) {
    if (typeof node.maxLength !== "number") found.push(at);
  }
  for (const [key, child] of Object.entries(node)) {
    if (typeof child === "object" && child !== null) unboundedStrings(child, `${at}.${key}`, found);
  }
}

describe("input length limits on every route", () => {
  it("every string a request may carry (path, query, body) has a maxLength, so Ajv stops before any pattern", async () => {
    const spec = (await h.app.inject({ method: "GET", url: "/docs/json" })).json<{
      paths: Record<string, Record<string, { parameters?: unknown[]; requestBody?: unknown }>>;
    }>();
    const found: string[] = [];
    let checked = 0;
    for (const [path, operations] of Object.entries(spec.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        checked += 1;
        unboundedStrings(operation.parameters, `${method} ${path} parameters`, found);
        unboundedStrings(operation.requestBody, `${method} ${path} body`, found);
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(found).toEqual([]);
  });

  // The router already answers 414 past 100 characters of a path parameter; below that, Ajv's length check.
  it("refuses an over-long id on its length, before its pattern is tried", async () => {
    const admin = await h.login("admin@example.com");
    const response = await h.app.inject({
      method: "GET",
      url: `/applications/${"0".repeat(90)}`,
      headers: admin,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      error: { code: "validation_failed", field: "id", message: expect.stringContaining("36 characters") },
    });
  });
});

describe("POST /auth/token over a real socket", () => {
  it("answers a 64 KB username in under 100 ms while /healthz stays fast", async () => {
    const local = await startHarness();
    try {
      await local.app.listen({ port: 0, host: "127.0.0.1" });
      const address = local.app.server.address();
      if (address === null || typeof address === "string") throw new Error("not listening");
      const base = `http://127.0.0.1:${address.port}`;
      const login = (username: string) =>
        fetch(`${base}/auth/token`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ grant_type: "password", username, password: "x" }).toString(),
        });
      const timed = async (request: () => Promise<Response>) => {
        const started = performance.now();
        const response = await request();
        const body = await response.text();
        return { status: response.status, body, ms: performance.now() - started };
      };
      // Warm the connections and the code paths, so what is timed below is the request itself.
      await timed(() => fetch(`${base}/healthz`));
      await timed(() => login("warm-up@example.com"));

      const adversarial = timed(() => login(`a@${".".repeat(64_000)}@`));
      await new Promise((resolve) => setTimeout(resolve, 5));
      const health = await timed(() => fetch(`${base}/healthz`));
      const answered = await adversarial;
      expect(answered.ms).toBeLessThan(100);
      expect(health.ms).toBeLessThan(100);
      expect(answered.status).toBe(400);
      expect(JSON.parse(answered.body)).toMatchObject({ error: "invalid_request" });
      expect(health.status).toBe(200);
    } finally {
      await local.close();
    }
  });
});
