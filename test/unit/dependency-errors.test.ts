import { describe, expect, it } from "vitest";
import { asUnavailable, isDependencyDown } from "../../src/domain/dependency-errors.js";

describe("dependency errors", () => {
  it("recognises unreachable PostgreSQL and Redis", () => {
    expect(
      isDependencyDown(
        Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
      ),
    ).toBe(true);
    expect(isDependencyDown(Object.assign(new Error("terminating connection"), { code: "57P01" }))).toBe(
      true,
    );
    expect(isDependencyDown(Object.assign(new Error("connection failure"), { code: "08006" }))).toBe(true);
    expect(isDependencyDown(new Error("Connection terminated unexpectedly"))).toBe(true);
    expect(
      isDependencyDown(new Error("Stream isn't writeable and enableOfflineQueue options is false")),
    ).toBe(true);
    expect(asUnavailable(new Error("Connection is closed."))).toMatchObject({
      code: "unavailable",
      status: 503,
    });
  });

  it("does not mistake bugs or bad input for outages", () => {
    expect(isDependencyDown(new TypeError("cannot read properties of undefined"))).toBe(false);
    expect(isDependencyDown(Object.assign(new Error("duplicate key"), { code: "23505" }))).toBe(false);
    expect(isDependencyDown("a string")).toBe(false);
    expect(asUnavailable(new Error("boom"))).toBeUndefined();
  });
});
