import { describe, expect, it } from "vitest";
import {
  decryptAtRest,
  deriveKeys,
  encryptAtRest,
  generateApiKey,
  hashApiKey,
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

  it("generates distinct API keys and hashes them with SHA-256", () => {
    const a = generateApiKey();
    expect(a).not.toBe(generateApiKey());
    expect(hashApiKey(a)).toMatch(/^[0-9a-f]{64}$/);
  });
});
