import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSite, type Harness, join, startHarness } from "../helpers/harness.js";

let h: Harness;
let base: string;

async function listen(): Promise<void> {
  await h.app.listen({ port: 0, host: "127.0.0.1" });
  const address = h.app.server.address();
  if (address === null || typeof address === "string") throw new Error("not listening");
  base = `http://127.0.0.1:${address.port}`;
}

beforeAll(async () => {
  h = await startHarness();
  await listen();
});
afterAll(() => h.close());

describe("GET /queue_status over a real socket (served ahead of the router)", () => {
  it("answers exactly as the routed handler does", async () => {
    const site = await createSite(h);
    await join(h, site.apiKey, site.queueId, "first");
    const { token } = await join(h, site.apiKey, site.queueId, "second");
    const routed = await h.app.inject({ method: "GET", url: `/queue_status?token=${token}` });
    for (const path of [`/queue_status?token=${token}`, `/queue_status/?token=${token}`]) {
      const response = await fetch(`${base}${path}`, { headers: { "x-request-id": "trace-1" } });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual(routed.json());
      expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(response.headers.get("access-control-allow-origin")).toBe("*");
      expect(response.headers.get("x-request-id")).toBe("trace-1");
    }
  });

  it("answers a bad or missing token with the API's 401 error body", async () => {
    for (const path of [
      "/queue_status?token=forged",
      "/queue_status",
      "/queue_status?token=%E0%A4%A",
      "/queue_status?a=1&token=x",
      `/queue_status?token=${"A".repeat(600)}`,
    ]) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(401);
      const body = (await response.json()) as { error: { code: string; request_id: string } };
      expect(body.error.code).toBe("invalid_token");
      expect(body.error.request_id).toBe(response.headers.get("x-request-id"));
    }
  });

  it("leaves every other request to the router", async () => {
    expect((await fetch(`${base}/queue_statusx`)).status).toBe(404);
    expect((await fetch(`${base}/queue_status/extra`)).status).toBe(404);
    const options = await fetch(`${base}/queue_status`, { method: "OPTIONS" });
    expect(options.status).toBe(204);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it("counts its requests in the duration histogram", async () => {
    await fetch(`${base}/queue_status?token=forged`);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/queue_status",status_code="401"\} \d+/,
    );
  });

  it("records the admission at the first poll after release, so it stands after a restart", async () => {
    const site = await createSite(h, { max_users_per_minute: 60, release_ttl_seconds: 600 });
    const visitor = await join(h, site.apiKey, site.queueId, "first-poll");
    await h.room.engine.releaseDue();
    const polled = await fetch(`${base}/queue_status?token=${visitor.token}`);
    const body = (await polled.json()) as { status: string; access_token?: string };
    expect(body.status).toBe("released");
    expect((await h.store.tickets.findBySeq(site.queueId, 1))?.admitted_at).not.toBeNull();

    await h.restart();
    await listen();
    h.clock.advance(700_000); // past release_ttl: only a visitor never seen would be expired now
    await h.room.engine.expire();
    expect((await h.store.tickets.findBySeq(site.queueId, 1))?.status).toBe("released");
    const check = await fetch(`${base}/admissions/check`, {
      method: "POST",
      headers: { "x-api-key": site.apiKey, "content-type": "application/json" },
      body: JSON.stringify({ access_token: body.access_token }),
    });
    expect(check.status).toBe(200);
    const again = (await (await fetch(`${base}/queue_status?token=${visitor.token}`)).json()) as {
      status: string;
    };
    expect(again.status).toBe("released");
  });
});
