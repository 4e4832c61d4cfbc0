import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Release callbacks carry `X-Anteroom-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256("<t>.<body>")>`.
 * Signing the timestamp with the body lets a site reject replays of an old, validly signed request.
 */
export const SIGNATURE_HEADER = "x-anteroom-signature";

const DEFAULT_TOLERANCE_SECONDS = 300;

function sign(secret: string, t: number, body: string): Buffer {
  return createHmac("sha256", secret).update(`${t}.${body}`, "utf8").digest();
}

export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  // Callers naturally pass Date.now() / 1000; the header only carries whole seconds.
  const t = Math.floor(unixSeconds);
  return `t=${t},v1=${sign(secret, t, body).toString("hex")}`;
}

/** Parses `t=...,v1=...[,v1=...]`; unknown keys are ignored so a future scheme can be added alongside. */
function parseHeader(header: string): { t: number; v1: Buffer[] } | undefined {
  let t: number | undefined;
  const v1: Buffer[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) return undefined;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t") {
      if (t !== undefined || !/^\d{1,12}$/.test(value)) return undefined;
      t = Number(value);
    } else if (key === "v1") {
      if (!/^[0-9a-f]{64}$/.test(value)) return undefined;
      v1.push(Buffer.from(value, "hex"));
    }
  }
  if (t === undefined || v1.length === 0) return undefined;
  return { t, v1 };
}

/**
 * For sites and tests: true when the header is well formed, the HMAC matches (constant-time compare),
 * and |now - t| <= toleranceSeconds (default 300). Several v1 values are accepted so a sender can sign
 * with an old and a new secret while a site rotates.
 */
export function verifySignature(
  secret: string,
  body: string,
  header: string,
  nowUnixSeconds: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): boolean {
  const parsed = parseHeader(header);
  if (parsed === undefined) return false;
  if (!(Math.abs(nowUnixSeconds - parsed.t) <= toleranceSeconds)) return false;
  const expected = sign(secret, parsed.t, body);
  let matched = false;
  // No early exit, so timing does not reveal which candidate matched.
  for (const candidate of parsed.v1) {
    if (timingSafeEqual(candidate, expected)) matched = true;
  }
  return matched;
}
