import { hash, verify } from "@node-rs/argon2";
import { jwtVerify, SignJWT } from "jose";
import type { Actor } from "../domain/access.js";
import type { Clock } from "../domain/clock.js";
import { isEmail, MAX_EMAIL_LENGTH } from "../domain/email.js";
import { errors } from "../domain/errors.js";
import type { LoginThrottle } from "../domain/login-throttle.js";
import type { Store } from "../store/types.js";

const ISSUER = "anteroom";
const AUDIENCE = "anteroom-admin";

/** An RFC 6749 error of the token endpoint; its body differs from the rest of the API by standard. */
export class OAuthError extends Error {
  constructor(
    readonly status: 400 | 429,
    readonly error: "invalid_request" | "invalid_grant" | "unsupported_grant_type" | "too_many_requests",
    readonly description: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(description);
    this.name = "OAuthError";
  }
}

export interface TokenResponse {
  access_token: string;
  token_type: "bearer";
  expires_in: number;
}

export const MIN_PASSWORD_LENGTH = 12;
/** Longer passwords are refused before anything else runs: argon2 hashes whatever it is given. */
export const MAX_PASSWORD_LENGTH = 1024;

export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export interface AuthDeps {
  store: Store;
  clock: Clock;
  signingKey: Uint8Array;
  /** The key of SECRET_KEY_PREVIOUS during a rotation: sessions it signed stay valid until they expire. */
  previousSigningKey?: Uint8Array | undefined;
  tokenTtlSeconds: number;
  throttle: LoginThrottle;
}

/** Password grant and bearer-token checks for the admin API. */
export class AuthService {
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly deps: AuthDeps) {}

  async passwordGrant(username: string, password: string, clientAddress: string): Promise<TokenResponse> {
    // The route refuses these already; checked again because everything below costs more than this.
    if (username.length > MAX_EMAIL_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
      throw new OAuthError(400, "invalid_request", "the username or password is too long");
    }
    const email = username.trim().toLowerCase();
    // Counted (and, for an account under attack, held back) before anything is looked up or verified.
    const attempt = await this.deps.throttle.begin(email, clientAddress);
    if (!attempt.allowed) {
      throw new OAuthError(
        429,
        "too_many_requests",
        "too many failed login attempts from this address; retry later",
        attempt.retryAfterSeconds,
      );
    }
    if (!isEmail(email)) throw new OAuthError(400, "invalid_grant", "the email or password is not correct");
    const user = await this.deps.store.users.findByEmail(email);
    // Verify against a throwaway hash for unknown accounts, so timing does not reveal which emails exist.
    this.dummyHash ??= hash("anteroom-dummy-password");
    const ok = await verify(user?.password_hash ?? (await this.dummyHash), password).catch(() => false);
    if (user === undefined || !ok || user.disabled_at !== null) {
      throw new OAuthError(400, "invalid_grant", "the email or password is not correct");
    }
    await attempt.succeeded();
    const nowSeconds = Math.floor(this.deps.clock.now() / 1000);
    const token = await new SignJWT({ role: user.role })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(user.id)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + this.deps.tokenTtlSeconds)
      .sign(this.deps.signingKey);
    return { access_token: token, token_type: "bearer", expires_in: this.deps.tokenTtlSeconds };
  }

  /** The caller behind a bearer token, read fresh from the record so role changes and disabling apply at once. */
  async authenticate(authorization: string | undefined): Promise<Actor> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? "");
    if (!match?.[1]) throw errors.unauthorized("send an Authorization: Bearer <token> header");
    let subject: string | undefined;
    let issuedAt = 0;
    const token = match[1];
    const verifyWith = (key: Uint8Array) =>
      jwtVerify(token, key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ["HS256"],
        currentDate: new Date(this.deps.clock.now()),
      });
    try {
      const previous = this.deps.previousSigningKey;
      const { payload } = await verifyWith(this.deps.signingKey).catch((error: unknown) => {
        if (previous === undefined) throw error;
        return verifyWith(previous);
      });
      subject = payload.sub;
      issuedAt = payload.iat ?? 0;
    } catch {
      throw errors.unauthorized("the bearer token is expired or not valid");
    }
    const user = subject === undefined ? undefined : await this.deps.store.users.findById(subject);
    if (user === undefined || user.disabled_at !== null) {
      throw errors.unauthorized("the account behind this token no longer exists or is disabled");
    }
    // iat has whole seconds: a token from the second of the change is given the benefit of the doubt.
    if (
      user.sessions_valid_from !== null &&
      issuedAt < Math.floor(Date.parse(user.sessions_valid_from) / 1000)
    ) {
      throw errors.unauthorized(
        "this session has ended (the password was changed or the account disabled since); log in again",
      );
    }
    const grants = user.role === "admin" ? [] : await this.deps.store.users.grants(user.id);
    return { userId: user.id, email: user.email, role: user.role, grants };
  }
}
