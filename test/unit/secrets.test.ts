import { describe, expect, it } from "vitest";
import {
  decryptAtRest,
  deriveKeys,
  encryptAtRest,
  generateApiKey,
  hashApiKey,
  sealedWith,
} from "../../src/domain/secrets.js";

describe("secrets", () => {
  const keys = deriveKeys("a-secret-key-of-at-least-32-characters!!");

  it("derives distinct keys per purpose, stable for one secret", () => {
    expect(keys.atRest.equals(keys.visitorToken)).toBe(false);
    expect(deriveKeys("a-secret-key-of-at-least-32-characters!!").atRest.equals(keys.atRest)).toBe(true);
  });

  it("round-trips sealed secrets and detects tampering", () => {
    const sealed = encryptAtRest(keys.atRest, "whsec_abc");
    expect(sealed).not.toContain("whsec_abc");
    expect(decryptAtRest(keys.atRest, sealed)).toBe("whsec_abc");
    const parts = sealed.split(".");
    parts[3] = Buffer.from("tampered").toString("base64url");
    expect(() => decryptAtRest(keys.atRest, parts.join("."))).toThrow();
    expect(() =>
      decryptAtRest(deriveKeys("another-secret-key-of-32-characters-!!!").atRest, sealed),
    ).toThrow();
  });

  it("opens secrets sealed under SECRET_KEY_PREVIOUS during a rotation, and only with it", () => {
    const old = deriveKeys("the-old-secret-key-of-32-characters-!!");
    const rotated = deriveKeys(
      "the-new-secret-key-of-32-characters-!!",
      "the-old-secret-key-of-32-characters-!!",
    );
    const sealedBefore = encryptAtRest(old.atRest, "whsec_before");
    expect(decryptAtRest(rotated.atRestReaders, sealedBefore)).toBe("whsec_before");
    expect(() => decryptAtRest(rotated.atRest, sealedBefore)).toThrow();
    expect(sealedWith(rotated.atRest, sealedBefore)).toBe(false);
    const sealedAfter = encryptAtRest(rotated.atRest, "whsec_after");
    expect(sealedWith(rotated.atRest, sealedAfter)).toBe(true);
    expect(decryptAtRest(rotated.atRestReaders, sealedAfter)).toBe("whsec_after");
    expect(rotated.previous?.atRest.equals(old.atRest)).toBe(true);
    expect(rotated.adminJwt).toEqual(deriveKeys("the-new-secret-key-of-32-characters-!!").adminJwt);
  });

  it("generates distinct API keys and hashes them with SHA-256", () => {
    const a = generateApiKey();
    expect(a).not.toBe(generateApiKey());
    expect(hashApiKey(a)).toMatch(/^[0-9a-f]{64}$/);
  });
});
