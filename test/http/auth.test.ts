import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ManualClock } from "../../src/domain/clock.js";
import { LoginThrottle } from "../../src/domain/login-throttle.js";
import { type Harness, PASSWORD, startHarness } from "../helpers/harness.js";

let h: Harness;
let throttleClock: ManualClock;
beforeAll(async () => {
  h = await startHarness();
  throttleClock = h.clock;
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
});

describe("login brute-force limit", () => {
  it("locks an account after 10 failures in 15 minutes, not its owner's later success after the window", async () => {
    const local = await startHarness({ throttle: new LoginThrottle(throttleClock) });
    try {
      await local.login("victim@example.com", "viewer");
      for (let attempt = 0; attempt < 10; attempt++) {
        const response = await local.app.inject(
          form({ grant_type: "password", username: "victim@example.com", password: `guess-${attempt}` }),
        );
        expect(response.statusCode).toBe(400);
      }
      const blocked = await local.app.inject(
        form({ grant_type: "password", username: "victim@example.com", password: PASSWORD }),
      );
      expect(blocked.statusCode).toBe(429);
      expect(blocked.json()).toMatchObject({ error: "too_many_requests" });
      expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(0);
      throttleClock.advance(15 * 60_000 + 1);
      const later = await local.app.inject(
        form({ grant_type: "password", username: "victim@example.com", password: PASSWORD }),
      );
      expect(later.statusCode).toBe(200);
    } finally {
      await local.close();
    }
  });

  it("limits one client address guessing across many accounts", async () => {
    const local = await startHarness();
    try {
      let last = 0;
      for (let attempt = 0; attempt < 51; attempt++) {
        const response = await local.app.inject(
          form({ grant_type: "password", username: `user${attempt}@example.com`, password: "guess" }),
        );
        last = response.statusCode;
      }
      expect(last).toBe(429);
    } finally {
      await local.close();
    }
  });
});

describe("login limit under concurrent guesses", () => {
  it("counts guesses in flight: a burst of 30 at once cannot get more than 10 past the per-account limit", async () => {
    const local = await startHarness();
    try {
      await local.login("burst@example.com", "viewer");
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          local.app.inject(
            form({ grant_type: "password", username: "burst@example.com", password: `guess-${i}` }),
          ),
        ),
      );
      const checked = answers.filter((answer) => answer.statusCode === 400).length;
      expect(checked).toBeLessThanOrEqual(10);
      expect(answers.filter((answer) => answer.statusCode === 429).length).toBeGreaterThanOrEqual(20);
    } finally {
      await local.close();
    }
  });
});
