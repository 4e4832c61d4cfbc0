import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { errors } from "../../domain/errors.js";
import type { Asset, ClientBundle } from "../client-bundle.js";

const YEAR = "public, max-age=31536000, immutable";

/** Whether the client takes gzip: `gzip` (or `*`) listed and not with q=0. */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  for (const part of header.toLowerCase().split(",")) {
    const [coding = "", ...params] = part.trim().split(";");
    const name = coding.trim();
    if (name !== "gzip" && name !== "*") continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

/** If-None-Match naming this asset (either encoding's tag, weak or strong, or `*`). */
function unchanged(request: FastifyRequest, asset: Asset): boolean {
  const header = request.headers["if-none-match"];
  if (header === undefined) return false;
  return header
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .some((tag) => tag === "*" || tag === asset.etag || tag === `"${asset.hash}-gzip"`);
}

function send(request: FastifyRequest, reply: FastifyReply, asset: Asset, cacheControl: string) {
  const gzip = acceptsGzip(request.headers["accept-encoding"]);
  reply
    .header("content-type", "text/javascript; charset=utf-8")
    .header("cache-control", cacheControl)
    .header("vary", "Accept-Encoding")
    .header("access-control-allow-origin", "*")
    .header("cross-origin-resource-policy", "cross-origin")
    .header("etag", gzip ? `"${asset.hash}-gzip"` : asset.etag);
  if (unchanged(request, asset)) return reply.status(304).send();
  if (gzip) reply.header("content-encoding", "gzip");
  return reply.send(gzip ? asset.gzip : asset.body);
}

/**
 * The browser scripts: /scripts/queue.js (the one-line embed; revalidated every time, cheap with its
 * ETag), and both scripts under their content-hash names, cached for a year. Anything else under
 * /scripts/ is a 404.
 */
export function scriptRoutes(bundle: ClientBundle): FastifyPluginAsync {
  const byName = new Map<string, [Asset, string]>([
    ["queue.js", [bundle.queue, "no-cache"]],
    [`queue.${bundle.queue.hash}.js`, [bundle.queue, YEAR]],
    [`wait.${bundle.wait.hash}.js`, [bundle.wait, YEAR]],
  ]);
  return async (app) => {
    app.get<{ Params: { "*": string } }>(
      "/scripts/*",
      { schema: { hide: true }, config: { hotPath: true } },
      async (request, reply) => {
        const found = byName.get(request.params["*"]);
        if (found === undefined) throw errors.notFound("script");
        return send(request, reply, found[0], found[1]);
      },
    );
  };
}
