import { describe, expect, it } from "vitest";
import { isEmail, MAX_EMAIL_LENGTH } from "../../src/domain/email.js";

// The rule the check replaced (a backtracking regex, quadratic on "a@....@"), kept here only as the
// reference its answers must match on short inputs.
const PART = "[^\\s@\\u0000-\\u001f\\u007f]+";
const REFERENCE = new RegExp(`^${PART}@${PART}\\.${PART}$`);

describe("isEmail", () => {
  it.each([
    "a@b.co",
    "admin@anteroom.local",
    "first.last+tag@sub.example.com",
    "ü@exämple.de",
    "a@b.c.d",
    "a@.b.c",
    `${"a".repeat(64)}@${"b".repeat(MAX_EMAIL_LENGTH - 64 - 5)}.com`,
  ])("accepts %j", (value) => {
    expect(isEmail(value)).toBe(true);
  });

  it.each([
    "",
    "a",
    "@b.co",
    "a@",
    "a@b",
    "a@b.",
    "a@.b",
    "a@@b.co",
    "a@b@c.co",
    "a b@c.co",
    "a@b .co",
    "a\u0000@b.co",
    "a@b.co\n",
    "a@b.c\u007f",
    "a\u00a0@b.co",
    "a@b\u2028.co",
    "a@b.co\ufeff",
    `${"a".repeat(64)}@${"b".repeat(MAX_EMAIL_LENGTH - 64 - 4)}.com`,
  ])("refuses %j", (value) => {
    expect(isEmail(value)).toBe(false);
  });

  it("agrees with the rule it replaced on every short string over a tricky alphabet", () => {
    const alphabet = ["a", ".", "@", " ", "\u0000", "\u00a0", "é", "\u007f", "\u3000"];
    let checked = 0;
    const visit = (prefix: string, depth: number): void => {
      expect(isEmail(prefix), JSON.stringify(prefix)).toBe(REFERENCE.test(prefix));
      checked += 1;
      if (depth === 0) return;
      for (const char of alphabet) visit(prefix + char, depth - 1);
    };
    visit("", 5);
    expect(checked).toBeGreaterThan(60_000);
  });

  it("answers a 1 MB adversarial input at once (length first, then one pass)", () => {
    const inputs = [
      `a@${".".repeat(1_000_000)}@`,
      `${"a".repeat(1_000_000)}@b.co`,
      `a@${".".repeat(250)}@`, // within the length limit: the single pass, not a backtracking search
    ];
    const started = performance.now();
    for (const input of inputs) expect(isEmail(input)).toBe(false);
    expect(performance.now() - started).toBeLessThan(50);
  });
});
