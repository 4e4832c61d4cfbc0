import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { errors } from "../../domain/errors.js";
import { directionOf, negotiateLanguage, translator } from "../../i18n/index.js";
import { type AdminAsset, type AdminBundle, adminBundle } from "../admin-bundle.js";
import { newNonce, setPageHeaders } from "../plugins/security-headers.js";
import { acceptsGzip } from "./scripts.js";

const YEAR = "public, max-age=31536000, immutable";

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

/** The console's one HTML page: the language's direction, the hashed assets, and a note without script. */
export function renderAdminPage(bundle: AdminBundle, lang: string, nonce: string): string {
  const t = translator(lang);
  return [
    "<!doctype html>",
    `<html lang="${escapeHtml(t.lang)}" dir="${directionOf(t.lang)}">`,
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    `<title>${escapeHtml(t.t("admin.title"))}</title>`,
    `<link rel="stylesheet" href="${bundle.style.path}">`,
    `<script defer src="${bundle.script.path}" nonce="${nonce}"></script>`,
    "</head>",
    `<body><div id="app"><noscript><p class="noscript">${escapeHtml(t.t("admin.noscript"))}</p></noscript></div></body>`,
    "</html>",
  ].join("");
}

function unchanged(request: FastifyRequest, asset: AdminAsset): boolean {
  const header = request.headers["if-none-match"];
  if (header === undefined) return false;
  return header
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .some((tag) => tag === "*" || tag === asset.etag || tag === `"${asset.hash}-gzip"`);
}

function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: AdminAsset) {
  const gzip = acceptsGzip(request.headers["accept-encoding"]);
  reply
    .header("content-type", asset.contentType)
    .header("cache-control", YEAR)
    .header("vary", "Accept-Encoding")
    .header("etag", gzip ? `"${asset.hash}-gzip"` : asset.etag);
  if (unchanged(request, asset)) return reply.status(304).send();
  if (gzip) reply.header("content-encoding", "gzip");
  return reply.send(gzip ? asset.gzip : asset.body);
}

/**
 * The operator's console: GET /admin (the page; ?lang= or Accept-Language picks its language) and its
 * script and stylesheet under /admin/assets/<name>.<hash>.<ext>. The console talks to the public admin API
 * with a bearer token it keeps in memory; nothing here needs credentials. Not in the OpenAPI document.
 */
export function adminRoutes(bundle: () => Promise<AdminBundle> = adminBundle): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: { lang?: string } }>(
      "/admin",
      { schema: { hide: true } },
      async (request, reply) => {
        const built = await bundle();
        const lang = negotiateLanguage(
          typeof request.query.lang === "string" ? request.query.lang : undefined,
          request.headers["accept-language"],
        );
        const nonce = newNonce();
        setPageHeaders(reply, { nonce, frameAncestors: "'none'" });
        return reply.send(renderAdminPage(built, lang, nonce));
      },
    );
    app.get<{ Params: { "*": string } }>(
      "/admin/assets/*",
      { schema: { hide: true } },
      async (request, reply) => {
        const built = await bundle();
        const name = `/admin/assets/${request.params["*"]}`;
        const found = [built.script, built.style].find((candidate) => candidate.path === name);
        if (found === undefined) throw errors.notFound("asset");
        return sendAsset(request, reply, found);
      },
    );
  };
}
