/**
 * The public admin API, as the console calls it: same origin, a bearer token held in this module's
 * memory only (never in localStorage, sessionStorage or a cookie; a reload means logging in again). Any
 * 401 ends the session: the token is forgotten and the login form shows.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

let token: string | undefined;
let onUnauthorized: (expired: boolean) => void = () => {};

export function signedIn(): boolean {
  return token !== undefined;
}

/** What to do when the session ends (the app shows the login form); `expired`: the API said 401. */
export function onLogout(handler: (expired: boolean) => void): void {
  onUnauthorized = handler;
}

/** Forgets the token. */
export function logout(expired = false): void {
  token = undefined;
  onUnauthorized(expired);
}

/** `{error: {code, message, field?}}`, or the token endpoint's `{error, error_description}`. */
function errorOf(status: number, body: unknown): ApiError {
  const { error, error_description } = (body ?? {}) as { error?: unknown; error_description?: unknown };
  if (error !== null && typeof error === "object") {
    const { code, message, field } = error as { code?: unknown; message?: unknown; field?: unknown };
    return new ApiError(
      status,
      typeof code === "string" ? code : "internal_error",
      typeof message === "string" ? message : String(status),
      typeof field === "string" ? field : undefined,
    );
  }
  const code = typeof error === "string" ? error : status >= 500 ? "internal_error" : "http_error";
  return new ApiError(status, code, typeof error_description === "string" ? error_description : code);
}

async function send(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(path, { credentials: "omit", cache: "no-store", ...init });
  } catch {
    throw new ApiError(0, "network", "network error");
  }
}

/** POST /auth/token (a form body, as OAuth2 wants it); keeps the token on success. */
export async function login(username: string, password: string): Promise<void> {
  const response = await send("/auth/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "password", username, password }).toString(),
  });
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw errorOf(response.status, body);
  const access = (body as { access_token?: unknown } | undefined)?.access_token;
  if (typeof access !== "string") throw new ApiError(response.status, "internal_error", "no access_token");
  token = access;
}

/** A call to the admin API with the session's token; 204 answers undefined. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await send(path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status === 401) {
    const error = errorOf(401, await response.json().catch(() => undefined));
    logout(true);
    throw error;
  }
  if (response.status === 204) return undefined as T;
  const parsed: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw errorOf(response.status, parsed);
  return parsed as T;
}

export const get = <T>(path: string) => api<T>("GET", path);

/** A query string from the defined values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
}
