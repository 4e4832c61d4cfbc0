import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import formbody from "@fastify/formbody";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { AppError, errors } from "../../domain/errors.js";
import { checkedReturnTo } from "../../domain/origins.js";
import type { DerivedKeys } from "../../domain/secrets.js";
import type { VisitorStatus } from "../../domain/visitor-status.js";
import { negotiateLanguage, type Translator, translator } from "../../i18n/index.js";
import type { VisitorService } from "../../services/visitors.js";
import type { ActiveQueue } from "../../store/types.js";
import { renderErrorPage, renderWaitPage, type Theme } from "../pages/wait-page.js";
import { sendError, toAppError, visitorError } from "../plugins/errors.js";
import type { RequestLimits } from "../plugins/rate-limit.js";
import { newNonce, setPageHeaders } from "../plugins/security-headers.js";
import { Uuid } from "../schemas.js";

/**
 * The hosted waiting page, `GET /wait/{queue_id}?return_to=&lang=&theme=`, for sites that send visitors to
 * the waiting room rather than embed the script. The first visit joins on the server (a fresh visitor id
 * and device secret, limited per client address as page joins are); the place is kept in a cookie, so a
 * refresh or a second tab keeps one place. The page is complete without JavaScript (it refreshes itself
 * while waiting, and a released visitor's next request is answered with a 303 to the site); the `wait`
 * script, when the deployment serves it, enhances it with live updates.
 */
export interface WaitRouteOptions {
  visitors: VisitorService;
  guard: RequestLimits;
  /** SECRET_KEY's derived keys: the place cookie is signed under a key of its own derived from them. */
  keys: DerivedKeys;
  /** A live queue with its application's domain and page settings, or undefined. */
  findQueue(queueId: string): Promise<ActiveQueue | undefined>;
  /** The enhancement script's path (`/scripts/wait.<hash>.js`); undefined: no script tag. */
  waitScript?: () => string | undefined;
  /** How long a queue's settings are reused before being read again. */
  queueTtlMs?: number;
}

/** How long the browser keeps the place (a visitor may wait hours, and come back after closing the tab). */
const COOKIE_MAX_AGE_SECONDS = 24 * 3600;
const COOKIE_VERSION = "1";
const MAC_BYTES = 16;
/** The no-JS page's refresh interval: often enough to notice a release, not a flood. */
const MIN_REFRESH_SECONDS = 3;
const MAX_REFRESH_SECONDS = 30;

const THEMES = ["light", "dark", "auto"] as const;

const Params = Type.Object({ queue_id: Uuid() });

const Lang = Type.String({
  maxLength: 35,
  pattern: "^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$",
  description: "the page's language (en, ar); otherwise Accept-Language, else English",
});
const ThemeSchema = Type.Unsafe<Theme>({
  type: "string",
  enum: [...THEMES],
  description: "light, dark, or auto (follows the system); default auto",
});
const ReturnTo = Type.String({
  minLength: 1,
  maxLength: 2048,
  description:
    "where to send the visitor when it is their turn: an absolute https URL on the application's domain; the admission token is added as ?anteroom_token=",
});

const PageQuery = Type.Object({
  return_to: Type.Optional(ReturnTo),
  lang: Type.Optional(Lang),
  theme: Type.Optional(ThemeSchema),
  rejoin: Type.Optional(Type.Literal("1", { description: "after a cancelled or expired place: join again" })),
});

const CancelForm = Type.Object({
  return_to: Type.Optional(ReturnTo),
  lang: Type.Optional(Lang),
  theme: Type.Optional(ThemeSchema),
});

/** What the cookie keeps: the place's token, the browser's device secret, the first position, flags. */
interface Place {
  token: string;
  device: string;
  start: number;
  /** The visitor came with a return_to: send them there when released (else show "it's your turn"). */
  hasReturnTo: boolean;
}

export function cookieNameOf(queueId: string): string {
  return `anteroom_wait_${queueId}`;
}

/** Signs and opens the place cookie; altered, truncated or foreign values open as undefined. */
export class PlaceCookie {
  private readonly keys: Buffer[];

  constructor(keys: DerivedKeys) {
    const derive = (secret: Buffer) =>
      Buffer.from(hkdfSync("sha256", secret, "anteroom", "hosted-page-cookie", 32));
    this.keys = [derive(keys.visitorToken)];
    if (keys.previous !== undefined) this.keys.push(derive(keys.previous.visitorToken));
  }

  private mac(key: Buffer, queueId: string, body: string): Buffer {
    return createHmac("sha256", key).update(`${queueId}.${body}`).digest().subarray(0, MAC_BYTES);
  }

  seal(queueId: string, place: Place): string {
    const body = [COOKIE_VERSION, place.token, place.device, place.start, place.hasReturnTo ? "r" : "-"].join(
      ".",
    );
    const [key] = this.keys;
    if (key === undefined) throw new Error("no cookie key");
    return `${body}.${this.mac(key, queueId, body).toString("base64url")}`;
  }

  open(queueId: string, value: string | undefined): Place | undefined {
    if (value === undefined || value.length > 512) return undefined;
    const parts = value.split(".");
    if (parts.length !== 6 || parts[0] !== COOKIE_VERSION) return undefined;
    const [, token = "", device = "", start = "", flags = "", mac = ""] = parts;
    const sent = Buffer.from(mac, "base64url");
    if (sent.length !== MAC_BYTES) return undefined;
    const body = parts.slice(0, 5).join(".");
    if (!this.keys.some((key) => timingSafeEqual(this.mac(key, queueId, body), sent))) return undefined;
    const first = Number(start);
    if (!Number.isSafeInteger(first) || first < 1) return undefined;
    return { token, device, start: first, hasReturnTo: flags === "r" };
  }
}

/** One cookie's value from a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(";")) {
    const equals = pair.indexOf("=");
    if (equals < 0) continue;
    if (pair.slice(0, equals).trim() === name) return pair.slice(equals + 1).trim();
  }
  return undefined;
}

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** The application's origins as CSP sources: its domain over https (http too, any port, for a local one). */
export function applicationSources(queue: ActiveQueue): string[] {
  const domain = queue.application_domain.toLowerCase();
  const host = domain.replace(/:\d+$/, "");
  if (LOCAL_HOSTS.has(host)) {
    // A local domain matches on any port (development); CSP needs the port said, or `*`.
    const source = host === domain ? `${host}:*` : domain;
    return [`http://${source}`, `https://${source}`];
  }
  const own = [`https://${domain}`];
  return queue.application_origin_policy === "subdomains" ? [...own, `https://*.${domain}`] : own;
}

function sourceOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** Refreshes of the no-JS page: the API's poll interval, kept between a few seconds and half a minute. */
export function refreshSecondsOf(status: VisitorStatus): number | undefined {
  if (status.status !== "waiting") return undefined;
  const poll = status.poll_after_seconds ?? MAX_REFRESH_SECONDS;
  return Math.max(MIN_REFRESH_SECONDS, Math.min(MAX_REFRESH_SECONDS, Math.round(poll)));
}

function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return typeof accept === "string" && accept.includes("text/html");
}

/** The request's language for the page: `lang`, else Accept-Language, else English. */
function translatorOf(request: FastifyRequest): Translator {
  const lang = (request.query as { lang?: unknown } | undefined)?.lang;
  const body = request.body as { lang?: unknown } | undefined;
  const chosen = typeof lang === "string" ? lang : typeof body?.lang === "string" ? body.lang : undefined;
  return translator(negotiateLanguage(chosen, request.headers["accept-language"]));
}

function themeOf(value: unknown): Theme {
  return typeof value === "string" && (THEMES as readonly string[]).includes(value)
    ? (value as Theme)
    : "auto";
}

/** The page's address with its parameters (the redirect after a cancel, "join again"). */
function pageUrl(queueId: string, params: { lang?: string; theme?: string; return_to?: string }, extra = "") {
  const search = new URLSearchParams();
  if (params.return_to !== undefined) search.set("return_to", params.return_to);
  if (params.lang !== undefined) search.set("lang", params.lang);
  if (params.theme !== undefined) search.set("theme", params.theme);
  const query = search.toString();
  const tail = query === "" ? extra : extra === "" ? query : `${query}&${extra}`;
  return `/wait/${queueId}${tail === "" ? "" : `?${tail}`}`;
}

/** A browser's visitor id for a page join: random, so a place is never shared by guessing it. */
function newVisitorId(): string {
  return `page_${randomBytes(16).toString("base64url")}`;
}

export function waitRoutes(options: WaitRouteOptions): FastifyPluginAsyncTypebox {
  const { visitors, guard } = options;
  const cookies = new PlaceCookie(options.keys);
  const ttl = options.queueTtlMs ?? 5_000;
  const cache = new Map<string, { queue: ActiveQueue | undefined; expiresAt: number }>();
  /** The request's queue, when it was found (its error page is framed and styled like the page). */
  const queueOfRequest = new WeakMap<FastifyRequest, ActiveQueue>();

  async function queueOf(queueId: string): Promise<ActiveQueue> {
    const now = Date.now();
    const hit = cache.get(queueId);
    let queue = hit !== undefined && hit.expiresAt > now ? hit.queue : undefined;
    if (hit === undefined || hit.expiresAt <= now) {
      queue = await options.findQueue(queueId);
      if (cache.size >= 10_000) cache.clear();
      cache.set(queueId, { queue, expiresAt: now + ttl });
    }
    if (queue === undefined) throw errors.notFound("queue");
    return queue;
  }

  function policyOf(queue: ActiveQueue | undefined, nonce: string, returnTo?: string) {
    if (queue === undefined) return { nonce, frameAncestors: "'none'", formActions: [] };
    const sources = applicationSources(queue);
    const back = returnTo === undefined ? undefined : sourceOf(returnTo);
    return {
      nonce,
      frameAncestors: queue.application_frame_ancestors ?? sources.join(" "),
      // A form's redirects count as its action: cancelling a released place ends at the site.
      formActions: back === undefined ? sources : [...sources, back],
    };
  }

  function setCookie(request: FastifyRequest, reply: FastifyReply, queueId: string, place: Place): void {
    const secure = request.protocol === "https" ? "; Secure" : "";
    reply.header(
      "set-cookie",
      `${cookieNameOf(queueId)}=${cookies.seal(queueId, place)}; Path=/wait/${queueId}; Max-Age=${COOKIE_MAX_AGE_SECONDS}; HttpOnly; SameSite=Lax${secure}`,
    );
  }

  function placeOf(request: FastifyRequest, queueId: string): Place | undefined {
    return cookies.open(queueId, cookieValue(request.headers.cookie, cookieNameOf(queueId)));
  }

  /** The place's status; undefined when its token or ticket is gone (a fresh join follows). */
  async function statusOf(place: Place): Promise<VisitorStatus | undefined> {
    try {
      return await visitors.status(visitors.verifyToken(place.token));
    } catch (error) {
      if (error instanceof AppError && (error.code === "invalid_token" || error.code === "not_found")) {
        return undefined;
      }
      throw error;
    }
  }

  function sendPage(reply: FastifyReply, status: number, html: string, policy: ReturnType<typeof policyOf>) {
    return setPageHeaders(reply, policy).status(status).send(html);
  }

  return async (app) => {
    await app.register(formbody, { bodyLimit: 8 * 1024 });

    // Errors a browser meets here are pages in the visitor's language; other clients get the JSON body.
    app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
      const appError = visitorError(request, toAppError(error));
      if (appError.code === "internal_error") {
        request.log.error({ err: error, reqId: request.id }, "unhandled error");
      }
      if (!wantsHtml(request)) return sendError(request, reply, appError);
      const t = translatorOf(request);
      const queue = queueOfRequest.get(request);
      const nonce = newNonce();
      const retryAfter = appError.extra.retryAfterSeconds;
      if (retryAfter !== undefined) reply.header("retry-after", String(retryAfter));
      const english = appError.message;
      const message =
        appError.code === "forbidden"
          ? t.t("page.cross_site")
          : appError.extra.field === "return_to"
            ? t.t("page.return_to_refused")
            : t.lang === "en"
              ? (errorMessageEn(appError.code) ?? english)
              : appError.message;
      const retryUrl = appError.status === 429 || appError.status >= 500 ? request.url : undefined;
      return sendPage(
        reply,
        appError.status,
        renderErrorPage({
          t,
          theme: themeOf((request.query as { theme?: unknown } | undefined)?.theme),
          nonce,
          page: queue?.page ?? null,
          code: appError.code,
          message,
          retryAfter: appError.status === 429 || appError.status === 503 ? (retryAfter ?? 5) : undefined,
          retryUrl: retryUrl !== undefined && retryUrl.length <= 4096 ? retryUrl : undefined,
        }),
        policyOf(queue, nonce),
      );
    });

    app.get(
      "/wait/:queue_id",
      {
        exposeHeadRoute: false,
        // A page view is a status poll (the no-JS page refreshes itself): the same per-address limit.
        onRequest: guard.byAddress(guard.limits.status, "status"),
        schema: {
          tags: ["visitors"],
          summary: "The hosted waiting page (HTML); the first visit joins the queue",
          description:
            "Server-rendered, readable without JavaScript. The place is kept in an HttpOnly cookie `anteroom_wait_<queue_id>`; once released, the page answers 303 to `return_to` (or the queue's redirect URL) with `?anteroom_token=`.",
          params: Params,
          querystring: PageQuery,
          response: {
            200: Type.String({ description: "the page (text/html)" }),
            303: Type.Null({ description: "released: to the site, with the admission token" }),
          },
        },
      },
      async (request, reply) => {
        const { queue_id: queueId } = request.params;
        const query = request.query;
        const queue = await queueOf(queueId);
        queueOfRequest.set(request, queue);
        const t = translator(negotiateLanguage(query.lang, request.headers["accept-language"]));
        const theme = query.theme ?? "auto";
        let returnTo: string | undefined;
        if (query.return_to !== undefined) {
          returnTo = checkedReturnTo(
            query.return_to,
            queue.application_domain,
            queue.application_origin_policy,
          );
          if (returnTo === undefined) {
            throw errors.validation("return_to", "must be an absolute https URL on the application's domain");
          }
        }
        const params = {
          lang: t.lang,
          theme,
          ...(query.return_to === undefined ? {} : { return_to: query.return_to }),
        };

        let place = placeOf(request, queueId);
        let status = place === undefined ? undefined : await statusOf(place);
        const ended = status?.status === "cancelled" || status?.status === "expired";
        if (status === undefined || (query.rejoin === "1" && ended)) {
          // A new place for this browser. Limited per client address, like a page's join with the key.
          guard.take(guard.limits.pageJoins, "page_joins", guard.clientKey(request.raw));
          const device = randomBytes(24).toString("base64url");
          const joined = await visitors.join(queue.application_id, queueId, newVisitorId(), {
            device,
            ...(returnTo === undefined ? {} : { returnTo }),
          });
          const { token, ...rest } = joined;
          place = { token, device, start: rest.position ?? 1, hasReturnTo: returnTo !== undefined };
          status = rest;
          setCookie(request, reply, queueId, place);
        }
        if (place === undefined) throw errors.invalidToken();
        if (query.rejoin === "1") {
          // The address without `rejoin`, so a refresh does not join again.
          return reply.header("cache-control", "no-store").redirect(pageUrl(queueId, params), 303);
        }
        const sendOn = place.hasReturnTo || queue.redirect_url !== null;
        if (status.status === "released" && sendOn && status.redirect_url !== undefined) {
          return reply.header("cache-control", "no-store").redirect(status.redirect_url, 303);
        }
        const nonce = newNonce();
        const html = renderWaitPage({
          t,
          theme,
          nonce,
          page: queue.page,
          queueId,
          token: place.token,
          status,
          startPosition: place.start,
          refreshSeconds: refreshSecondsOf(status),
          scriptSrc: options.waitScript?.(),
          params,
          rejoinUrl: pageUrl(queueId, params, "rejoin=1"),
        });
        return sendPage(reply, 200, html, policyOf(queue, nonce, status.redirect_url ?? returnTo));
      },
    );

    app.post(
      "/wait/:queue_id/cancel",
      {
        onRequest: guard.byAddress(guard.limits.cancels, "cancels"),
        schema: {
          tags: ["visitors"],
          summary: "The hosted page's cancel form: gives up the place, then 303 back to the page",
          description:
            "Same-origin form posts only (the Origin header, else Sec-Fetch-Site, must say so); the place is the one in the page's cookie.",
          params: Params,
          body: Type.Optional(CancelForm),
          response: { 303: Type.Null({ description: "back to the page" }) },
        },
      },
      async (request, reply) => {
        const { queue_id: queueId } = request.params;
        // The cookie is SameSite=Lax, so another site's form sends none; refuse such posts outright too.
        if (!sameOrigin(request)) {
          throw new AppError("forbidden", "only the waiting page itself may cancel its place");
        }
        const queue = await queueOf(queueId);
        queueOfRequest.set(request, queue);
        const form = request.body ?? {};
        const place = placeOf(request, queueId);
        if (place === undefined) throw errors.invalidToken("no place in line in this browser");
        await visitors.cancel(visitors.verifyToken(place.token));
        const lang = negotiateLanguage(form.lang, request.headers["accept-language"]);
        const back = pageUrl(queueId, {
          lang,
          ...(form.theme === undefined ? {} : { theme: form.theme }),
          ...(form.return_to === undefined ? {} : { return_to: form.return_to }),
        });
        return reply.header("cache-control", "no-store").redirect(back, 303);
      },
    );
  };
}

/**
 * Whether a form post came from this origin's own page. Sec-Fetch-Site says so where browsers send it (all
 * current ones); else Origin must be ours. Under `Referrer-Policy: no-referrer` browsers send `Origin: null`
 * with a form post, so a null Origin is only accepted with Sec-Fetch-Site: same-origin. A request with
 * neither header comes from no browser's cross-site form (they send Origin with every POST).
 */
export function sameOrigin(request: FastifyRequest): boolean {
  const site = request.headers["sec-fetch-site"];
  if (site !== undefined) return site === "same-origin";
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  return origin === `${request.protocol}://${request.host}`;
}

/** English page text for codes whose API message is written for developers. */
function errorMessageEn(code: string): string | undefined {
  const t = translator("en");
  for (const key of [`errors.${code}`, `page.errors.${code}`]) if (t.has(key)) return t.t(key);
  return undefined;
}
