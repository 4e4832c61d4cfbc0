// Setup through the admin API: log in, create an application and a queue releasing 1 visitor/minute (so
// every visitor the bench joins keeps waiting).
import type { Target } from "./targets.js";

export interface Fixture {
  queueId: string;
  apiKey: string;
}

export async function call(
  url: string,
  init: RequestInit,
  expected: number,
): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    throw new Error(`${init.method ?? "GET"} ${url} failed${cause}`);
  }
  const text = await response.text();
  if (response.status !== expected) {
    throw new Error(`${init.method ?? "GET"} ${url}: expected ${expected}, got ${response.status}: ${text}`);
  }
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== "object" || parsed === null) throw new Error(`${url}: not a JSON object: ${text}`);
  return parsed as Record<string, unknown>;
}

export function stringField(object: Record<string, unknown>, key: string): string {
  const value = object[key];
  if (typeof value !== "string") throw new Error(`expected a string "${key}" in ${JSON.stringify(object)}`);
  return value;
}

/** Logs in as the target's first admin; returns the bearer token. */
export async function adminToken(target: Target): Promise<string> {
  const login = await call(
    `${target.adminUrl}/auth/token`,
    {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "password",
        username: target.adminEmail,
        password: target.adminPassword,
      }).toString(),
    },
    200,
  );
  return stringField(login, "access_token");
}

export async function setUp(target: Target): Promise<Fixture> {
  const base = target.adminUrl;
  const headers = {
    authorization: `Bearer ${await adminToken(target)}`,
    "content-type": "application/json",
  };
  const application = await call(
    `${base}/applications/`,
    {
      method: "POST",
      headers,
      body: JSON.stringify({
        name: "bench",
        domain: "bench.example.com",
        callback_url: "http://127.0.0.1:9/cb",
      }),
    },
    201,
  );
  const queue = await call(
    `${base}/queues/`,
    {
      method: "POST",
      headers,
      body: JSON.stringify({
        application_id: stringField(application, "id"),
        name: "bench",
        max_users_per_minute: 1,
      }),
    },
    201,
  );
  return { queueId: stringField(queue, "id"), apiKey: stringField(application, "api_key") };
}
