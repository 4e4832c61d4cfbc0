import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../helpers/harness.js";

const TOKEN = "metrics-token-0123456789";
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ metrics: { serve: true, token: TOKEN } });
});
afterAll(() => h.close());

describe("/metrics with METRICS_TOKEN", () => {
  it("refuses a scrape without the token, or with another, in the API's error shape", async () => {
    for (const authorization of [undefined, "Bearer wrong", `Bearer ${TOKEN}x`, TOKEN, `Basic ${TOKEN}`]) {
      const response = await h.app.inject({
        method: "GET",
        url: "/metrics",
        ...(authorization === undefined ? {} : { headers: { authorization } }),
      });
      expect(response.statusCode).toBe(401);
      expect(response.headers["www-authenticate"]).toContain("Bearer");
      expect(response.json()).toMatchObject({ error: { code: "unauthorized" } });
      expect(response.body).not.toContain("queue_size");
    }
  });

  it("serves the exposition with the token", async () => {
    const response = await h.app.inject({
      method: "GET",
      url: "/metrics",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain("# TYPE queue_size gauge");
  });
});

describe("/metrics served elsewhere (METRICS_PORT)", () => {
  it("is not on the public app at all", async () => {
    const other = await startHarness({ metrics: { serve: false } });
    try {
      expect((await other.app.inject({ method: "GET", url: "/metrics" })).statusCode).toBe(404);
    } finally {
      await other.close();
    }
  });
});
