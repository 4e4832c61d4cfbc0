import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { dottedQuad, parseIpv6 } from "../domain/client-address.js";
import { errors } from "../domain/errors.js";

/**
 * Callback URLs are fetched by the server, so an operator could aim them at the server's own network
 * (SSRF). Unless private callbacks are allowed, a URL is refused when its host resolves to any address
 * that is loopback, private, link-local, unique-local, CGNAT, multicast or otherwise not public unicast.
 * The check runs when an application is saved and again at each delivery (a name can resolve elsewhere
 * later), and delivery connects to the very address that was checked.
 */
const blockedV4 = new BlockList();
const blockedV6 = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24], // 6to4 relay anycast (deprecated)
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  blockedV4.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 96], // unspecified, loopback, and the deprecated IPv4-compatible addresses
  ["::ffff:0:0:0", 96], // IPv4-translated (SIIT): reaches whatever the translator's IPv4 side reaches
  ["64:ff9b:1::", 48], // local-use NAT64
  ["100::", 64],
  ["2001::", 32], // Teredo: tunnels to an IPv4 address this check cannot vouch for
  ["2001:db8::", 32],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10], // site-local (deprecated, still routed inside some networks)
  ["ff00::", 8],
] as const) {
  blockedV6.addSubnet(net, prefix, "ipv6");
}

/**
 * The IPv4 address an IPv6 address delivers to, where it embeds one: IPv4-mapped (::ffff:a.b.c.d), NAT64
 * (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::/48). Such an address is as public as that IPv4 address.
 */
function embeddedIpv4(address: string): string | undefined {
  const groups = parseIpv6(address);
  if (groups === undefined) return undefined;
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups;
  const zeroHead = g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (g0 === 0 && zeroHead && g5 === 0xffff) return dottedQuad(g6, g7);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return dottedQuad(g6, g7);
  if (g0 === 0x2002) return dottedQuad(g1, g2);
  return undefined;
}

export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 4) return !blockedV4.check(address, "ipv4");
  const inner = embeddedIpv4(address);
  if (inner !== undefined) return isPublicAddress(inner);
  return !blockedV6.check(address, "ipv6");
}

export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;

const LOOKUP_TIMEOUT_MS = 3000;

export const dnsResolver: Resolver = (host) =>
  Promise.race([
    lookup(host, { all: true, verbatim: true }),
    new Promise<never>((_, reject) => {
      setTimeout(() => reject(new Error(`lookup of ${host} timed out`)), LOOKUP_TIMEOUT_MS).unref();
    }),
  ]);

export interface CheckedUrl {
  url: URL;
  /** The addresses the host resolved to when checked (empty if it did not resolve); delivery connects to one. */
  addresses: { address: string; family: number }[];
}

/** Syntax only: an absolute http(s) URL without credentials or fragment. */
export function parseCallbackUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw errors.invalidCallbackUrl("is not a valid absolute URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw errors.invalidCallbackUrl("must use http or https");
  }
  if (url.username !== "" || url.password !== "") {
    throw errors.invalidCallbackUrl("must not contain credentials");
  }
  if (url.hash !== "") throw errors.invalidCallbackUrl("must not contain a fragment");
  return url;
}

export async function checkCallbackUrl(
  raw: string,
  options: { allowPrivate: boolean; resolve?: Resolver },
): Promise<CheckedUrl> {
  const url = parseCallbackUrl(raw);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: { address: string; family: number }[] = [];
  if (isIP(host) !== 0) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    // A name that does not resolve yet is accepted (a site may set up DNS later); delivery checks again.
    addresses = await (options.resolve ?? dnsResolver)(host).catch(() => []);
  }
  if (!options.allowPrivate) {
    const refused = addresses.find((entry) => !isPublicAddress(entry.address));
    if (refused !== undefined) {
      // Which address is deliberately not said: tenants must not learn how internal names resolve.
      throw errors.invalidCallbackUrl(`host "${host}" resolves to a private, loopback or link-local address`);
    }
  }
  return { url, addresses };
}
