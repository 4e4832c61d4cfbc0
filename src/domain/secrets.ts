import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";

/**
 * Keys derived from the one SECRET_KEY, each for one purpose, so a key leaked from one use
 * (say, visitor tokens) says nothing about another (admin sessions, secrets at rest).
 */
export interface PurposeKeys {
  adminJwt: Uint8Array;
  visitorToken: Buffer;
  atRest: Buffer;
}

export interface DerivedKeys extends PurposeKeys {
  /**
   * The keys of SECRET_KEY_PREVIOUS while SECRET_KEY is being rotated: tokens they signed are still
   * accepted and secrets they sealed still read; nothing new is signed or sealed with them.
   */
  previous: PurposeKeys | undefined;
  /** Keys that open sealed secrets: the current one first. */
  atRestReaders: readonly Buffer[];
}

function derivePurposes(secretKey: string): PurposeKeys {
  const derive = (purpose: string) =>
    Buffer.from(hkdfSync("sha256", Buffer.from(secretKey, "utf8"), "anteroom", purpose, 32));
  return {
    adminJwt: new Uint8Array(derive("admin-jwt")),
    visitorToken: derive("visitor-token"),
    atRest: derive("at-rest-encryption"),
  };
}

export function deriveKeys(secretKey: string, previousSecretKey?: string): DerivedKeys {
  const current = derivePurposes(secretKey);
  const previous = previousSecretKey === undefined ? undefined : derivePurposes(previousSecretKey);
  return {
    ...current,
    previous,
    atRestReaders: previous === undefined ? [current.atRest] : [current.atRest, previous.atRest],
  };
}

/** API keys: random, shown once, stored only as a SHA-256 hash (they carry 256 bits, so no slow hash is needed). */
export function generateApiKey(): string {
  return `ak_${randomBytes(32).toString("base64url")}`;
}

/** Publishable keys are public (pages carry them): random only so they cannot be guessed from the id. */
export function generatePublishableKey(): string {
  return `pk_${randomBytes(18).toString("base64url")}`;
}

export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}

export function hashApiKey(apiKey: string): string {
  return createHash("sha256").update(apiKey, "utf8").digest("hex");
}

/** The first characters, kept in clear so an operator can tell keys apart. */
export function apiKeyPrefix(apiKey: string): string {
  return apiKey.slice(0, 10);
}

/** AES-256-GCM for secrets the service must read back (webhook secrets, signing keys). `v1.<iv>.<tag>.<data>`. */
export function encryptAtRest(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return [
    "v1",
    iv.toString("base64url"),
    cipher.getAuthTag().toString("base64url"),
    data.toString("base64url"),
  ].join(".");
}

/**
 * Opens a sealed secret with the first of `keys` that authenticates it (GCM refuses a wrong key), so
 * secrets sealed before a SECRET_KEY rotation stay readable until resealed.
 */
export function decryptAtRest(keys: Buffer | readonly Buffer[], sealed: string): string {
  const [version, iv, tag, data] = sealed.split(".");
  if (version !== "v1" || iv === undefined || tag === undefined || data === undefined) {
    throw new Error("sealed secret has an unknown format");
  }
  let failure: unknown;
  for (const key of Buffer.isBuffer(keys) ? [keys] : keys) {
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString(
        "utf8",
      );
    } catch (error) {
      failure = error;
    }
  }
  throw new Error("sealed secret does not open with SECRET_KEY (or SECRET_KEY_PREVIOUS)", { cause: failure });
}

/** Whether a sealed secret opens with this key (resealing skips what the current key already sealed). */
export function sealedWith(key: Buffer, sealed: string): boolean {
  try {
    decryptAtRest(key, sealed);
    return true;
  } catch {
    return false;
  }
}
