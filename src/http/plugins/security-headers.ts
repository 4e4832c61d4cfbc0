import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyReply } from "fastify";

/**
 * Headers every response carries: `X-Content-Type-Options: nosniff` (a JSON body or a script is never
 * sniffed into something else) and `Referrer-Policy: no-referrer` (a visitor token or an admission token in
 * a URL must not leak to the next site through `Referer`). The status fast path (http/fast-status.ts) writes
 * the same two itself.
 *
 * HTML pages (the hosted waiting page) add a strict Content-Security-Policy with a nonce per response:
 * nothing runs or styles the page but what it names. `frame-ancestors` replaces X-Frame-Options (which is
 * not sent: the two would disagree whenever an application allows another origin to frame the page).
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook("onRequest", (_request, reply, done) => {
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
    done();
  });
}

/** A fresh nonce for one response's inline `<style>` and `<script>` tags (128 random bits). */
export function newNonce(): string {
  return randomBytes(16).toString("base64");
}

export interface PagePolicy {
  nonce: string;
  /** Origins a form on the page may submit to or be redirected to after submitting, besides 'self'. */
  formActions?: readonly string[];
  /** Who may frame the page: a CSP source list ("https://a.example 'self'"), or 'none'. */
  frameAncestors: string;
}

/** The Content-Security-Policy of an HTML page. */
export function contentSecurityPolicy(policy: PagePolicy): string {
  const nonce = `'nonce-${policy.nonce}'`;
  const formAction = ["'self'", ...new Set(policy.formActions ?? [])].join(" ");
  return [
    "default-src 'none'",
    `script-src 'self' ${nonce}`,
    `style-src 'self' ${nonce}`,
    "img-src 'self' https: data:",
    "connect-src 'self'",
    "base-uri 'none'",
    `form-action ${formAction}`,
    `frame-ancestors ${policy.frameAncestors}`,
  ].join("; ");
}

/** Sets an HTML page's headers: its CSP, and no caching (it shows one visitor's place). */
export function setPageHeaders(reply: FastifyReply, policy: PagePolicy): FastifyReply {
  return reply
    .header("content-security-policy", contentSecurityPolicy(policy))
    .header("cache-control", "no-store")
    .header("content-type", "text/html; charset=utf-8");
}
