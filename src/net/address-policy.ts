import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
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
  ["::", 128],
  ["::1", 128],
  ["64:ff9b::", 96],
  ["100::", 64],
  ["2001:db8::", 32],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  blockedV6.addSubnet(net, prefix, "ipv6");
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:1.2.3.4 or ::ffff:102:304), if it is one. */
function mappedIpv4(address: string): string | undefined {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (dotted?.[1]) return dotted[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex?.[1] === undefined || hex[2] === undefined) return undefined;
  const high = Number.parseInt(hex[1], 16);
  const low = Number.parseInt(hex[2], 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 4) return !blockedV4.check(address, "ipv4");
  const mapped = mappedIpv4(address);
  if (mapped !== undefined) return isPublicAddress(mapped);
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
