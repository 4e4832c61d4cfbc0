import { isIP } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clientKey, parseIpv6 } from "../../src/domain/client-address.js";

describe("client addresses", () => {
  it("parse IPv6 exactly when node:net says it is one", () => {
    const candidate = fc.oneof(
      fc.ipV6(),
      fc.ipV4(),
      fc.ipV4Extended(),
      fc.stringMatching(/^[0-9a-fA-F:.]{0,45}$/),
      fc.ipV6().map((ip) => ip.replace(":", ":::")),
    );
    fc.assert(
      fc.property(candidate, (text) => {
        expect(parseIpv6(text) !== undefined).toBe(isIP(text) === 6);
      }),
      { numRuns: 5_000 },
    );
  });

  it("count IPv4 as is, IPv4-mapped as IPv4, IPv6 by /64, and anything else apart", () => {
    expect(clientKey("203.0.113.9")).toBe("203.0.113.9");
    expect(clientKey("::ffff:203.0.113.9")).toBe("203.0.113.9");
    expect(clientKey("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
    expect(clientKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(clientKey("not an address")).toBe("?not an address");
    expect(clientKey("999.1.1.1")).toBe("?999.1.1.1");
  });
});
