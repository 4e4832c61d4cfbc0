/**
 * Where the script may send a visitor: only an http(s) URL on the page's own host or one of its
 * subdomains, so that neither a mistaken option nor a tampered answer makes the page an open redirect.
 */
export function isOwnSite(url: string, page: { protocol: string; hostname: string; host: string }): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url, `${page.protocol}//${page.host}/`);
  } catch {
    return false;
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return false;
  if (parsed.protocol === "http:" && page.protocol === "https:") return false;
  if (parsed.username !== "" || parsed.password !== "") return false;
  const host = parsed.hostname.toLowerCase();
  const own = page.hostname.toLowerCase();
  return parsed.host.toLowerCase() === page.host.toLowerCase() || (host !== own && host.endsWith(`.${own}`));
}

/** The URL with `anteroom_token` set (replacing any there). */
export function withToken(url: string, token: string, pageHref: string): string {
  const parsed = new URL(url, pageHref);
  parsed.searchParams.set("anteroom_token", token);
  return parsed.toString();
}
