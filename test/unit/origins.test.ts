import { describe, expect, it } from "vitest";
import { checkedReturnTo, isApplicationUrl, withAdmissionToken } from "../../src/domain/origins.js";

describe("an application's origins", () => {
  it.each([
    ["https://shop.example.com", "domain", true],
    ["https://shop.example.com/checkout?x=1", "domain", true],
    ["https://SHOP.example.com", "domain", true],
    ["http://shop.example.com", "domain", false],
    ["https://www.shop.example.com", "domain", false],
    ["https://www.shop.example.com", "subdomains", true],
    ["https://a.b.shop.example.com", "subdomains", true],
    ["https://shop.example.com.evil.com", "subdomains", false],
    ["https://evilshop.example.com", "subdomains", false],
    ["https://user:pw@shop.example.com", "domain", false],
    ["javascript:alert(1)", "domain", false],
    ["//shop.example.com", "domain", false],
    ["not a url", "domain", false],
    // Another port on the host may be another service: only the domain's own (443, or the one it names).
    ["https://shop.example.com:443/x", "domain", true],
    ["https://shop.example.com:8443/x", "domain", false],
    ["https://shop.example.com:0/", "domain", false],
    ["https://www.shop.example.com:8443/", "subdomains", false],
  ] as const)("%s under %s: %s", (url, policy, allowed) => {
    expect(isApplicationUrl(url, "shop.example.com", policy)).toBe(allowed);
  });

  it("matches the port a domain setting names", () => {
    expect(isApplicationUrl("https://shop.example.com:8443/x", "shop.example.com:8443", "domain")).toBe(true);
    expect(isApplicationUrl("https://shop.example.com/x", "shop.example.com:8443", "domain")).toBe(false);
  });

  it("allows plain http only for a local domain, with its port", () => {
    expect(isApplicationUrl("http://localhost:3000", "localhost", "domain")).toBe(true);
    expect(isApplicationUrl("http://127.0.0.1:8080/x", "127.0.0.1", "domain")).toBe(true);
    expect(isApplicationUrl("http://localhost.evil.com", "localhost", "subdomains")).toBe(false);
  });

  it("normalises a return address and adds the admission token", () => {
    expect(checkedReturnTo("https://shop.example.com/in#top", "shop.example.com", "domain")).toBe(
      "https://shop.example.com/in",
    );
    expect(checkedReturnTo("https://elsewhere.com/", "shop.example.com", "domain")).toBeUndefined();
    expect(
      checkedReturnTo(`https://shop.example.com/${"x".repeat(3000)}`, "shop.example.com", "domain"),
    ).toBe(undefined);
    expect(withAdmissionToken("https://shop.example.com/in?a=1", "jwt")).toBe(
      "https://shop.example.com/in?a=1&anteroom_token=jwt",
    );
  });
});
