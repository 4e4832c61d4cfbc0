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

/** The stable code and message of an error body: `{error: "code", message}` or `{error: {code, message}}`. */
export function errorOf(body: unknown): { code: string; message: string } {
  let { error, message } = (body ?? {}) as { error?: unknown; message?: unknown };
  if (error !== null && typeof error === "object")
    ({ code: error, message } = error as { code?: unknown; message?: unknown });
  const code = typeof error === "string" ? error : "internal_error";
  return { code, message: typeof message === "string" ? message : code };
}

/** Any failure as an ApiError (an unexpected one as internal_error). */
export function apiError(caught: unknown): ApiError {
  return caught instanceof ApiError ? caught : new ApiError("internal_error", String(caught));
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

/** A POST of a JSON body. */
function post<T>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
  return call<T>(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

export function join(base: string, request: JoinRequest): Promise<JoinAnswer> {
  // return_to is left out of the body when undefined (JSON.stringify drops it).
  return post(
    `${base}/join`,
    { queue_id: request.queueId, visitor_id: request.visitorId, return_to: request.returnTo },
    { "x-api-key": request.key, "x-anteroom-device": request.device },
  );
}

export function queueStatus(base: string, token: string): Promise<VisitorStatus> {
  return call<VisitorStatus>(`${base}/queue_status?token=${encodeURIComponent(token)}`);
}

export function cancel(base: string, token: string): Promise<VisitorStatus> {
  return post(`${base}/cancel`, { token });
}

export function eventsUrl(base: string, token: string): string {
  return `${base}/queue_events?token=${encodeURIComponent(token)}`;
}
