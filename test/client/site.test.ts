import { describe, expect, it } from "vitest";
import { isOwnSite, withToken } from "../../client/site.js";

const page = { protocol: "https:", hostname: "shop.example.com", host: "shop.example.com" };

describe("where the script may send a visitor", () => {
  it("the page's own host and its subdomains", () => {
    expect(isOwnSite("https://shop.example.com/ready", page)).toBe(true);
    expect(isOwnSite("/ready?x=1", page)).toBe(true);
    expect(isOwnSite("https://eu.shop.example.com/ready", page)).toBe(true);
  });

  it("never elsewhere", () => {
    expect(isOwnSite("https://evil.example/", page)).toBe(false);
    expect(isOwnSite("https://shop.example.com.evil.example/", page)).toBe(false);
    expect(isOwnSite("https://example.com/", page)).toBe(false);
    expect(isOwnSite("http://shop.example.com/", page)).toBe(false);
    expect(isOwnSite("javascript:alert(1)", page)).toBe(false);
    expect(isOwnSite("https://user:pw@shop.example.com/", page)).toBe(false);
    expect(isOwnSite("//evil.example/x", page)).toBe(false);
  });

  it("on loopback, the port too", () => {
    const local = { protocol: "http:", hostname: "localhost", host: "localhost:8080" };
    expect(isOwnSite("http://localhost:8080/ready", local)).toBe(true);
    expect(isOwnSite("http://localhost:9090/ready", local)).toBe(false);
  });

  it("adds the admission token", () => {
    expect(withToken("/ready?a=1", "t.o.k", "https://shop.example.com/q")).toBe(
      "https://shop.example.com/ready?a=1&anteroom_token=t.o.k",
    );
  });
});
