import type { OriginPolicy } from "./model.js";

/**
 * Which web origins belong to an application: its domain over https, and under policy `subdomains` any
 * subdomain of it too. Plain http only for a local domain (development and tests). Used for the
 * publishable key's `Origin` check and for where a released visitor may be sent (`return_to`), so the
 * waiting room can never be made into an open redirect.
 */
const LOCAL = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** The host part of a domain setting as URLs spell it (lowercase; a port kept). */
function hostOf(domain: string): string {
  return domain.toLowerCase();
}

/** Whether `url` (an origin or any absolute URL) is on the application's domain under its policy. */
export function isApplicationUrl(url: string, domain: string, policy: OriginPolicy): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.username !== "" || parsed.password !== "") return false;
  const expected = hostOf(domain);
  const expectedHost = expected.replace(/:\d+$/, "");
  const local = LOCAL.has(expectedHost);
  if (parsed.protocol !== "https:" && !(local && parsed.protocol === "http:")) return false;
  const host = parsed.host.toLowerCase();
  // The port is part of the origin: another port on the same host may be another service. Only a local
  // domain (development) matches on any port.
  if (host === expected || (local && parsed.hostname.toLowerCase() === expected)) return true;
  return policy === "subdomains" && !local && host.endsWith(`.${expected}`);
}

/** A `return_to` the application may send its visitors to, as a normalised URL; undefined when not. */
export function checkedReturnTo(url: string, domain: string, policy: OriginPolicy): string | undefined {
  if (url.length > 2048 || !isApplicationUrl(url, domain, policy)) return undefined;
  const parsed = new URL(url);
  parsed.hash = "";
  return parsed.toString();
}

/** Where a released visitor goes: the given address (or the site's root) carrying the admission token. */
export function withAdmissionToken(url: string, accessToken: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set("anteroom_token", accessToken);
  return parsed.toString();
}
