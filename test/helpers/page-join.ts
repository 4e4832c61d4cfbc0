import type { LightMyRequestResponse } from "fastify";
import type { Harness, JoinBody } from "./harness.js";

/** A browser's device secret, as the embed script makes it (22 to 128 of `[A-Za-z0-9_-]`). */
export const DEVICE = "device-A-0123456789abcdef";
export const OTHER_DEVICE = "device-B-0123456789abcdef";
export const ORIGIN = "https://shop.example.com";

export interface PageJoin {
  key: string;
  queueId: string;
  visitorId: string;
  /** The page's origin; null sends no Origin header. */
  origin?: string | null;
  /** The device secret; null sends no X-Anteroom-Device header. */
  device?: string | null;
  returnTo?: string;
  remoteAddress?: string;
}

/** POST /join as a page does: the publishable key, the browser's Origin and its device secret. */
export function pageJoin(h: Harness, join: PageJoin): Promise<LightMyRequestResponse> {
  const origin = join.origin === undefined ? ORIGIN : join.origin;
  const device = join.device === undefined ? DEVICE : join.device;
  return h.app.inject({
    method: "POST",
    url: "/join",
    headers: {
      "x-api-key": join.key,
      ...(origin === null ? {} : { origin }),
      ...(device === null ? {} : { "x-anteroom-device": device }),
    },
    payload: {
      queue_id: join.queueId,
      visitor_id: join.visitorId,
      ...(join.returnTo === undefined ? {} : { return_to: join.returnTo }),
    },
    ...(join.remoteAddress === undefined ? {} : { remoteAddress: join.remoteAddress }),
  });
}

/** A page join that must succeed. */
export async function pageJoined(h: Harness, join: PageJoin): Promise<JoinBody> {
  const response = await pageJoin(h, join);
  if (response.statusCode !== 200) throw new Error(`page join: ${response.statusCode} ${response.body}`);
  return response.json<JoinBody>();
}

/** The application's publishable key, as the admin API shows it. */
export async function publishableKeyOf(h: Harness, appId: string): Promise<string> {
  const admin = await h.login("admin@example.com");
  const response = await h.app.inject({ method: "GET", url: `/applications/${appId}`, headers: admin });
  const key = response.json<{ publishable_key?: unknown }>().publishable_key;
  if (typeof key !== "string") throw new Error(`no publishable key: ${response.body}`);
  return key;
}

/** Releases the queue's front visitors until `token`'s visitor is out, then returns its status. */
export async function releaseUntilOut(h: Harness, token: string): Promise<JoinBody> {
  for (let i = 0; i < 10; i++) {
    await h.room.engine.releaseDue();
    const response = await h.app.inject({
      method: "GET",
      url: `/queue_status?token=${encodeURIComponent(token)}`,
    });
    const body = response.json<JoinBody>();
    if (body.status !== "waiting") return body;
    h.clock.advance(1_000);
  }
  throw new Error("not released");
}
