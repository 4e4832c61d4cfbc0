import type { VisitorStatus } from "../../src/domain/visitor-status.js";
import type { Harness } from "./harness.js";

/** A JSON body of an inject response, typed for the test's convenience. */
export type Json = Record<string, unknown>;

export const appBody = (name = "Shop") => ({
  name,
  domain: "shop.example.com",
  callback_url: "http://127.0.0.1:9/callback",
});

/** An application and a queue in it, created through the admin API. */
export async function createSite(
  h: Harness,
  queue: Json = {},
  application: Json = {},
): Promise<{ appId: string; apiKey: string; webhookSecret: string; queueId: string }> {
  const admin = await h.login("admin@example.com");
  const app = await h.app.inject({
    method: "POST",
    url: "/applications/",
    headers: admin,
    payload: { ...appBody(), ...application },
  });
  if (app.statusCode !== 201) throw new Error(`create application: ${app.body}`);
  const {
    id: appId,
    api_key: apiKey,
    webhook_secret: webhookSecret,
  } = app.json<{
    id: string;
    api_key: string;
    webhook_secret: string;
  }>();
  const created = await h.app.inject({
    method: "POST",
    url: "/queues/",
    headers: admin,
    payload: { application_id: appId, name: "Main", max_users_per_minute: 60, ...queue },
  });
  if (created.statusCode !== 201) throw new Error(`create queue: ${created.body}`);
  await h.room.engine.refresh();
  return { appId, apiKey, webhookSecret, queueId: created.json<{ id: string }>().id };
}

/** A join answer: the visitor status plus the visitor token. */
export type JoinBody = VisitorStatus & { token: string };

export async function join(
  h: Harness,
  apiKey: string,
  queueId: string,
  visitorId: string,
): Promise<JoinBody> {
  const response = await h.app.inject({
    method: "POST",
    url: "/join",
    headers: { "x-api-key": apiKey },
    payload: { queue_id: queueId, visitor_id: visitorId },
  });
  if (response.statusCode !== 200)
    throw new Error(`join ${visitorId}: ${response.statusCode} ${response.body}`);
  return response.json<JoinBody>();
}

export async function status(h: Harness, token: string): Promise<JoinBody> {
  const response = await h.app.inject({
    method: "GET",
    url: `/queue_status?token=${encodeURIComponent(token)}`,
  });
  if (response.statusCode !== 200) throw new Error(`status: ${response.statusCode} ${response.body}`);
  return response.json<JoinBody>();
}
