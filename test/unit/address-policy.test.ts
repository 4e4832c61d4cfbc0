import { describe, expect, it } from "vitest";
import { checkCallbackUrl, isPublicAddress } from "../../src/net/address-policy.js";

describe("callback address policy", () => {
  it.each([
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "::1",
    "::",
    "fe80::1",
    "fd00::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "224.0.0.1",
  ])("%s is not public", (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])(
    "%s is public",
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );

  it("refuses a name that resolves to a private address, without saying which", async () => {
    const resolve = async () => [
      { address: "93.184.216.34", family: 4 },
      { address: "10.0.0.5", family: 4 },
    ];
    await expect(
      checkCallbackUrl("https://intranet.example.com/cb", { allowPrivate: false, resolve }),
    ).rejects.toMatchObject({
      code: "invalid_callback_url",
      message: expect.not.stringContaining("10.0.0.5"),
    });
  });

  it("refuses literal private addresses, allows them when private callbacks are allowed", async () => {
    await expect(checkCallbackUrl("http://[::1]:8080/cb", { allowPrivate: false })).rejects.toMatchObject({
      code: "invalid_callback_url",
    });
    const allowed = await checkCallbackUrl("http://127.0.0.1:8080/cb", { allowPrivate: true });
    expect(allowed.addresses).toEqual([{ address: "127.0.0.1", family: 4 }]);
  });

  it("accepts a public name and one that does not resolve yet", async () => {
    const publicName = await checkCallbackUrl("https://shop.example.com/cb", {
      allowPrivate: false,
      resolve: async () => [{ address: "93.184.216.34", family: 4 }],
    });
    expect(publicName.addresses).toHaveLength(1);
    const unresolved = await checkCallbackUrl("https://not-yet.example.com/cb", {
      allowPrivate: false,
      resolve: async () => {
        throw new Error("ENOTFOUND");
      },
    });
    expect(unresolved.addresses).toEqual([]);
  });
});

describe("IPv4-mapped IPv6 in hex form", () => {
  it("is judged by the IPv4 address inside", () => {
    expect(isPublicAddress("::ffff:7f00:1")).toBe(false);
    expect(isPublicAddress("::ffff:808:808")).toBe(true);
  });
});

describe("IPv6 forms that reach IPv4 or internal networks", () => {
  it.each([
    "::7f00:1", // IPv4-compatible (::/96): deprecated, refused whatever it embeds
    "::8.8.8.8",
    "::ffff:0:7f00:1", // IPv4-translated (::ffff:0:0/96)
    "::ffff:0:8.8.8.8",
    "fec0::1", // site-local
    "2002:7f00:1::1", // 6to4 of 127.0.0.1
    "2002:a00:1::", // 6to4 of 10.0.0.1
    "2002:c0a8:101::1", // 6to4 of 192.168.1.1
    "64:ff9b::a00:1", // NAT64 of 10.0.0.1
    "64:ff9b::127.0.0.1",
    "64:ff9b::a9fe:a9fe", // NAT64 of the cloud metadata address
    "64:ff9b:1::808:808", // local-use NAT64
    "2001:0:4136:e378:8000:63bf:3fff:fdd2", // Teredo
    "192.88.99.1",
  ])("%s is not public", (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(["2002:808:808::1", "64:ff9b::808:808", "64:ff9b::8.8.8.8", "2a00:1450:4001:81d::200e"])(
    "%s is public",
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );

  it("refuses such a literal in a callback URL", async () => {
    for (const url of [
      "http://[2002:7f00:1::1]/cb",
      "http://[64:ff9b::a9fe:a9fe]/cb",
      "http://[fec0::1]/cb",
    ]) {
      await expect(checkCallbackUrl(url, { allowPrivate: false })).rejects.toMatchObject({
        code: "invalid_callback_url",
      });
    }
  });
});
