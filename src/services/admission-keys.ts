import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from "jose";
import type { Clock } from "../domain/clock.js";
import { decryptAtRest, encryptAtRest } from "../domain/secrets.js";
import { iso } from "../domain/time.js";
import type { SigningKeyRepository, SigningKeyRow } from "../store/types.js";

/**
 * Admission tokens: JWTs signed with Ed25519 (EdDSA), verifiable by any site offline against the public
 * keys at /.well-known/jwks.json. Keys are generated at first start and kept in the record (private half
 * encrypted). Rotation adds a new signing key; retired keys stay published long enough for every token
 * they signed to expire.
 */
const ALG = "EdDSA";
/** Retired keys stay in the JWKS this long: the longest admission token lifetime a queue may set. */
const RETIRED_KEY_PUBLISHED_MS = 7 * 86_400_000;
/**
 * `nbf` is back-dated this much, so a site whose clock runs up to this far behind ours accepts a token the
 * moment the visitor arrives with it (`iat` stays the real issue time; `exp` counts from it).
 */
export const NOT_BEFORE_SKEW_SECONDS = 30;
/** A token signed by a key this process has not loaded (rotated elsewhere) reloads the keys at most this often. */
const UNKNOWN_KEY_RELOAD_MS = 1_000;

export interface AdmissionClaims {
  queueId: string;
  applicationId: string;
  visitorId: string;
  ticketId: string;
  seq: number;
  issuedAt: number;
  ttlSeconds: number;
}

interface LoadedKey {
  kid: string;
  publicJwk: JWK;
  privateKey: Awaited<ReturnType<typeof importJWK>>;
  createdAt: string;
  retiredAt: string | null;
  revokedAt: string | null;
}

export interface VerifiedAdmission {
  payload: JWTPayload;
  queueId: string;
  visitorId: string;
  seq: number;
}

export class AdmissionKeys {
  private keys: LoadedKey[] = [];
  /** The record's signing key was not among ours: reload all keys (revocations too) after the release. */
  private outdated = false;
  private lastUnknownKeyReload = Number.NEGATIVE_INFINITY;
  private reloading: Promise<void> | undefined;

  /** Seals new private keys; the first of `atRestKeys`. */
  private readonly atRestKey: Buffer;
  private readonly atRestKeys: readonly Buffer[];

  /**
   * `atRest`: the key that seals private keys, or the keys that open them with the sealing one first
   * (during a SECRET_KEY rotation the previous key still opens what it sealed).
   */
  constructor(
    private readonly repository: SigningKeyRepository,
    atRest: Buffer | readonly Buffer[],
    private readonly clock: Clock,
    readonly issuer: string,
  ) {
    this.atRestKeys = Buffer.isBuffer(atRest) ? [atRest] : atRest;
    const [sealing] = this.atRestKeys;
    if (sealing === undefined) throw new Error("AdmissionKeys needs a key to seal private keys with");
    this.atRestKey = sealing;
  }

  /** Loads the keys, generating the first one if there is none. */
  async init(): Promise<void> {
    await this.refresh();
    if (this.active() === undefined) await this.rotate();
  }

  /** Re-reads the keys (another process may have rotated them). */
  async refresh(): Promise<void> {
    this.outdated = false;
    const rows = await this.repository.list();
    this.keys = await Promise.all(rows.map((row) => this.load(row)));
  }

  /** Reloads the keys if signing met a key this process did not have (see sign). */
  async refreshIfOutdated(): Promise<void> {
    if (this.outdated) await this.refresh();
  }

  private async load(row: SigningKeyRow): Promise<LoadedKey> {
    return {
      kid: row.kid,
      publicJwk: JSON.parse(row.public_jwk) as JWK,
      privateKey: await importJWK(
        JSON.parse(decryptAtRest(this.atRestKeys, row.private_jwk_enc)) as JWK,
        ALG,
      ),
      createdAt: row.created_at,
      retiredAt: row.retired_at,
      revokedAt: row.revoked_at,
    };
  }

  /**
   * Starts signing with a new key. The others are retired: still published (tokens they signed keep
   * verifying until they expire) unless `revoke`, for a key that may be compromised, which unpublishes
   * them at once (their tokens stop verifying).
   */
  async rotate(options: { revoke?: boolean } = {}): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(ALG, { crv: "Ed25519", extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    // Strictly after every key this process knows, so a rotation right after another still lists newest.
    const newest = this.keys.at(-1);
    const now = iso(Math.max(this.clock.now(), newest === undefined ? 0 : Date.parse(newest.createdAt) + 1));
    await this.repository.insert({
      kid,
      alg: ALG,
      public_jwk: JSON.stringify({ ...publicJwk, kid, alg: ALG, use: "sig" }),
      private_jwk_enc: encryptAtRest(this.atRestKey, JSON.stringify(await exportJWK(privateKey))),
      created_at: now,
      retired_at: null,
      revoked_at: null,
    });
    await this.repository.retireOlder({ kid, created_at: now }, now, options.revoke === true);
    await this.refresh();
    return kid;
  }

  /**
   * The newest key not revoked. Keys are listed oldest first, and a rotation retires only keys older than
   * the new one, so processes starting together (each generating a first key) still agree on one after a
   * refresh, and never end up with every key retired.
   */
  private active(): LoadedKey | undefined {
    return this.keys.filter((key) => key.revokedAt === null).at(-1);
  }

  /**
   * Signs with `current`, the record's signing key as read in the release transaction, never with this
   * process's own idea of it: a process that missed a rotation with revocation would otherwise go on
   * signing with the revoked key. A key new to this process is loaded from the row (no query: the caller
   * holds a transaction, and SQLite has one connection), and all keys are reloaded after the release
   * (refreshIfOutdated). A key revoked in the row or in this process's keys is refused.
   */
  async sign(current: SigningKeyRow, claims: AdmissionClaims): Promise<string> {
    let key = this.keys.find((candidate) => candidate.kid === current.kid);
    if (key === undefined) {
      key = await this.load(current);
      this.keys = [...this.keys, key];
      this.outdated = true;
    } else if (key !== this.active()) {
      this.outdated = true; // a newer key here than in the record, or the reverse: reconcile after
    }
    if (current.revoked_at !== null || key.revokedAt !== null) {
      throw new Error(`refusing to sign with revoked admission key ${current.kid}`);
    }
    const issuedAt = Math.floor(claims.issuedAt / 1000);
    return new SignJWT({ app: claims.applicationId, seq: claims.seq })
      .setProtectedHeader({ alg: ALG, kid: key.kid, typ: "JWT" })
      .setIssuer(this.issuer)
      .setAudience(claims.queueId)
      .setSubject(claims.visitorId)
      .setJti(claims.ticketId)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt - NOT_BEFORE_SKEW_SECONDS)
      .setExpirationTime(issuedAt + claims.ttlSeconds)
      .sign(key.privateKey);
  }

  private published(key: LoadedKey, now: number): boolean {
    if (key.revokedAt !== null) return false;
    return key.retiredAt === null || Date.parse(key.retiredAt) > now - RETIRED_KEY_PUBLISHED_MS;
  }

  jwks(): JSONWebKeySet {
    const now = this.clock.now();
    return {
      keys: this.keys.filter((key) => this.published(key, now)).map((key) => key.publicJwk),
    };
  }

  /** Verifies a token this service issued; throws when it is not valid now. */
  async verify(token: string): Promise<VerifiedAdmission> {
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        let key = this.keys.find((candidate) => candidate.kid === header.kid);
        if (key === undefined) {
          // Signed by a key rotated in elsewhere whose change event has not reached this process yet.
          await this.reloadForUnknownKey();
          key = this.keys.find((candidate) => candidate.kid === header.kid);
        }
        if (key === undefined || !this.published(key, this.clock.now()))
          throw new Error("unknown signing key");
        return importJWK(key.publicJwk, ALG);
      },
      { issuer: this.issuer, algorithms: [ALG], currentDate: new Date(this.clock.now()) },
    );
    const queueId = typeof payload.aud === "string" ? payload.aud : undefined;
    if (queueId === undefined || typeof payload.sub !== "string" || typeof payload.seq !== "number") {
      throw new Error("admission token lacks its claims");
    }
    return { payload, queueId, visitorId: payload.sub, seq: payload.seq };
  }

  /** At most one reload a second, however many tokens (or forgeries) name keys this process lacks. */
  private async reloadForUnknownKey(): Promise<void> {
    if (this.reloading !== undefined) return this.reloading;
    const now = this.clock.now();
    if (now - this.lastUnknownKeyReload < UNKNOWN_KEY_RELOAD_MS) return;
    this.lastUnknownKeyReload = now;
    this.reloading = this.refresh().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }
}
