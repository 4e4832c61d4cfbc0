import { describe, expect, it } from "vitest";
import { VisitorTokens } from "../../src/domain/visitor-token.js";

describe("visitor tokens", () => {
  const tokens = new VisitorTokens(Buffer.alloc(32, 1));
  const ref = { queueId: "0b6f3a2e-8c4d-4e1f-9a7b-123456789abc", seq: 123_456_789 };

  it("round-trips the ticket it names, URL-safe and 52 characters", () => {
    const token = tokens.issue(ref);
    expect(token).toMatch(/^[\w-]{52}$/);
    expect(tokens.verify(token)).toEqual(ref);
    expect(tokens.verify(tokens.issue({ ...ref, seq: 2 ** 40 }))).toEqual({ ...ref, seq: 2 ** 40 });
  });

  it("refuses every single-character alteration", () => {
    const token = tokens.issue(ref);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (let i = 0; i < token.length; i++) {
      const replacement = alphabet[(alphabet.indexOf(token[i] ?? "A") + 1) % alphabet.length];
      const altered = `${token.slice(0, i)}${replacement}${token.slice(i + 1)}`;
      const verified = tokens.verify(altered);
      // The last character carries 2 padding bits base64url may ignore; anything it decodes to must still match.
      if (verified !== undefined) expect(verified).toEqual(ref);
      else expect(verified).toBeUndefined();
    }
    expect(tokens.verify(`${token.slice(0, 10)}x${token.slice(11)}`)).toBeUndefined();
  });

  it("refuses tokens of another key, the wrong length, or not a string", () => {
    expect(new VisitorTokens(Buffer.alloc(32, 2)).verify(tokens.issue(ref))).toBeUndefined();
    expect(tokens.verify(tokens.issue(ref).slice(1))).toBeUndefined();
    expect(tokens.verify(undefined)).toBeUndefined();
    expect(tokens.verify(42)).toBeUndefined();
    expect(tokens.verify("a".repeat(52))).toBeUndefined();
    expect(tokens.verify("=".repeat(52))).toBeUndefined();
  });

  it("accepts tokens of the previous key during a SECRET_KEY rotation, and issues with the new one", () => {
    const before = new VisitorTokens(Buffer.alloc(32, 7));
    const during = new VisitorTokens(Buffer.alloc(32, 8), Buffer.alloc(32, 7));
    const after = new VisitorTokens(Buffer.alloc(32, 8));
    const old = before.issue(ref);
    expect(during.verify(old)).toEqual(ref);
    expect(after.verify(old)).toBeUndefined();
    expect(after.verify(during.issue(ref))).toEqual(ref);
  });
});
