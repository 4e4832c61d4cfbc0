import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deriveKeys } from "../../src/domain/secrets.js";
import { resealSecrets } from "../../src/start/reseal.js";
import { SIGNATURE_HEADER, verifySignature } from "../../src/worker/callbacks/signature.js";
import { createSite, type Harness, join, PASSWORD, SECRET, startHarness } from "../helpers/harness.js";
import { Receiver } from "../helpers/receiver.js";

/**
 * A SECRET_KEY rotation as docs/operations.md describes it: new key with the old one as
 * SECRET_KEY_PREVIOUS, `anteroom reseal`, then the old key dropped. Nothing stored is lost on the way.
 */
let h: Harness;
let receiver: Receiver;
let url: string;
beforeAll(async () => {
  receiver = new Receiver();
  url = await receiver.start();
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
  await receiver.stop();
});

const NEW_SECRET = "the-rotated-secret-key-of-forty-characters";

async function adminToken(): Promise<string> {
  await h.login("admin@example.com");
  const response = await h.app.inject({
    method: "POST",
    url: "/auth/token",
    payload: { grant_type: "password", username: "admin@example.com", password: PASSWORD },
  });
  return response.json<{ access_token: string }>().access_token;
}

async function releaseAndDeliver(): Promise<{ accessToken: string; signature: string; body: string }> {
  receiver.received.length = 0;
  await h.room.engine.releaseDue();
  expect(await h.room.dispatcher.dispatchDue()).toBe(1);
  const delivered = receiver.received[0];
  if (delivered === undefined) throw new Error("no callback");
  const body = JSON.parse(delivered.body) as { access_token: string };
  return {
    accessToken: body.access_token,
    signature: String(delivered.headers[SIGNATURE_HEADER]),
    body: delivered.body,
  };
}

describe("rotating SECRET_KEY", () => {
  it("keeps places, sessions, signing keys and webhook secrets through SECRET_KEY_PREVIOUS and reseal", async () => {
    receiver.answer = () => 200;
    const site = await createSite(h, { max_users_per_minute: 1 }, { callback_url: url });
    const session = await adminToken();
    const first = await join(h, site.apiKey, site.queueId, "first");
    const second = await join(h, site.apiKey, site.queueId, "second");
    const check = (accessToken: string) =>
      h.app.inject({
        method: "POST",
        url: "/admissions/check",
        headers: { "x-api-key": site.apiKey },
        payload: { access_token: accessToken },
      });

    // 1. The new key, with the old one still accepted.
    await h.restart({ secretKey: NEW_SECRET, previousSecretKey: SECRET });
    const polled = await h.app.inject({ method: "GET", url: `/queue_status?token=${second.token}` });
    expect(polled.json()).toMatchObject({ status: "waiting", position: 2 });
    const apps = await h.app.inject({
      method: "GET",
      url: "/applications/",
      headers: { authorization: `Bearer ${session}` },
    });
    expect(apps.statusCode).toBe(200);
    const released = await releaseAndDeliver(); // signing key and webhook secret sealed under the old key
    expect((await check(released.accessToken)).statusCode).toBe(200);
    const now = h.clock.now() / 1000;
    expect(verifySignature(site.webhookSecret, released.body, released.signature, now)).toBe(true);

    // 2. Everything stored is re-encrypted under the new key; running it again finds nothing to do.
    const report = await resealSecrets(h.store, h.keys);
    expect(report.unreadable).toEqual([]);
    expect(report.resealed).toBeGreaterThanOrEqual(2); // the webhook secret and the signing key(s)
    expect((await resealSecrets(h.store, h.keys)).resealed).toBe(0);

    // 3. The old key dropped: stored secrets still read, tokens it signed no longer verify.
    await h.restart({ secretKey: NEW_SECRET });
    h.clock.advance(60_000);
    const next = await releaseAndDeliver();
    expect((await check(next.accessToken)).statusCode).toBe(200);
    expect(verifySignature(site.webhookSecret, next.body, next.signature, h.clock.now() / 1000)).toBe(true);
    expect((await check(released.accessToken)).statusCode).toBe(200); // admission JWTs are not SECRET_KEY's
    const stale = await h.app.inject({ method: "GET", url: `/queue_status?token=${first.token}` });
    expect(stale.statusCode).toBe(401);
    const oldSession = await h.app.inject({
      method: "GET",
      url: "/applications/",
      headers: { authorization: `Bearer ${session}` },
    });
    expect(oldSession.statusCode).toBe(401);
    // A site joins its visitor again and gets the same ticket under a token of the new key.
    const again = await join(h, site.apiKey, site.queueId, "first");
    expect(again.token).not.toBe(first.token);
    expect(again.status).toBe("released");
  });

  it("reports secrets neither key opens instead of losing them", async () => {
    const report = await resealSecrets(h.store, deriveKeys("yet-another-secret-key-nobody-sealed-with-1"));
    expect(report.resealed).toBe(0);
    expect(report.unreadable.length).toBeGreaterThanOrEqual(2);
    expect(report.unreadable.some((name) => name.startsWith("webhook secret of application"))).toBe(true);
  });
});
