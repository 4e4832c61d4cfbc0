import type { ClientError, JoinAnswer, VisitorStatus } from "./types.js";

/** The waiting room's visitor API, as a page calls it (cross-origin, no cookies). */

export class ApiError extends Error implements ClientError {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
    /** Seconds from Retry-After, when the server said when to come back. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** The stable code and message of an error body: `{error: {code, message}}` or `{error: "code", message}`. */
export function errorOf(body: unknown): { code: string; message: string } {
  if (body !== null && typeof body === "object" && "error" in body) {
    const { error, message } = body as { error: unknown; message?: unknown };
    if (typeof error === "string")
      return { code: error, message: typeof message === "string" ? message : error };
    if (error !== null && typeof error === "object") {
      const inner = error as { code?: unknown; message?: unknown };
      const code = typeof inner.code === "string" ? inner.code : "internal_error";
      return { code, message: typeof inner.message === "string" ? inner.message : code };
    }
  }
  return { code: "internal_error", message: "unexpected answer" };
}

async function call<T>(url: string, init: RequestInit = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { credentials: "omit", cache: "no-store", ...init });
  } catch {
    throw new ApiError("network", "network error");
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const { code, message } = errorOf(body);
    const retry = Number(response.headers.get("retry-after"));
    throw new ApiError(
      code,
      message,
      response.status,
      Number.isFinite(retry) && retry > 0 ? retry : undefined,
    );
  }
  return body as T;
}

export function publishableKey(base: string, appId: string): Promise<string> {
  return call<{ publishable_key: string }>(`${base}/public/applications/${encodeURIComponent(appId)}`).then(
    (body) => body.publishable_key,
  );
}

export interface JoinRequest {
  key: string;
  device: string;
  queueId: string;
  visitorId: string;
  returnTo?: string;
}

export function join(base: string, request: JoinRequest): Promise<JoinAnswer> {
  return call<JoinAnswer>(`${base}/join`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-api-key": request.key,
      "x-anteroom-device": request.device,
    },
    body: JSON.stringify({
      queue_id: request.queueId,
      visitor_id: request.visitorId,
      ...(request.returnTo === undefined ? {} : { return_to: request.returnTo }),
    }),
  });
}

export function queueStatus(base: string, token: string): Promise<VisitorStatus> {
  return call<VisitorStatus>(`${base}/queue_status?token=${encodeURIComponent(token)}`);
}

export function cancel(base: string, token: string): Promise<VisitorStatus> {
  return call<VisitorStatus>(`${base}/cancel`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token }),
  });
}

export function eventsUrl(base: string, token: string): string {
  return `${base}/queue_events?token=${encodeURIComponent(token)}`;
}
