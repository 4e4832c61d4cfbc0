import type { IncomingMessage } from "node:http";
import proxyAddr from "@fastify/proxy-addr";
import type { FastifyInstance, FastifyRequest, HookHandlerDoneFunction } from "fastify";
import { Counter, type Registry } from "prom-client";
import { clientKey } from "../../domain/client-address.js";
import { type AppError, errors } from "../../domain/errors.js";
import type { RateLimits, RateRuleName } from "../../domain/rate-limit.js";
import type { RateLimiter } from "../../domain/rate-limiter.js";
import { errorResponses } from "../schemas.js";

/** TRUST_PROXY as proxy-addr's trust function: what Fastify is given, and what the fast path uses too. */
export type TrustProxy = false | ((address: string, hop: number) => boolean);

export function compileTrust(setting: false | number | string | undefined): TrustProxy {
  if (setting === undefined || setting === false) return false;
  // A hop count means: believe the nearest N proxies.
  if (typeof setting === "number") return (_address, hop) => hop < setting;
  return proxyAddr.compile(setting.split(",").map((entry) => entry.trim()));
}

const CLIENT_KEY = Symbol("anteroom.clientKey");
type TaggedSocket = IncomingMessage["socket"] & { [CLIENT_KEY]?: string };

/**
 * The key a request's client is limited under (see clientKey): the peer address, or with TRUST_PROXY the
 * address the trusted proxies report (proxy-addr, Fastify's own rule). Without a proxy the key is kept on
 * the connection, so a keep-alive client costs one property read per request.
 */
export function clientKeyOf(trust: TrustProxy): (req: IncomingMessage) => string {
  if (trust === false) {
    return (req) => {
      const socket = req.socket as TaggedSocket;
      let key = socket[CLIENT_KEY];
      if (key === undefined) {
        key = clientKey(socket.remoteAddress ?? "");
        socket[CLIENT_KEY] = key;
      }
      return key;
    };
  }
  return (req) => clientKey(proxyAddr(req, trust));
}

const REFUSED_METRIC = "anteroom_rate_limited_total";

/**
 * The limits as the HTTP layer applies them: onRequest hooks (callback style: they run on every visitor
 * request) that refuse with 429 `rate_limited` and Retry-After, and a counter of refusals by rule.
 */
export class RequestLimits {
  private readonly refusals: Counter<"rule">;

  constructor(
    readonly limits: RateLimits,
    readonly clientKey: (req: IncomingMessage) => string,
    registry: Registry,
  ) {
    this.refusals =
      (registry.getSingleMetric(REFUSED_METRIC) as Counter<"rule"> | undefined) ??
      new Counter({
        name: REFUSED_METRIC,
        help: "Requests refused by a rate limit (429)",
        labelNames: ["rule"],
        registers: [registry],
      });
  }

  /** Counts a refusal and returns its error. */
  refuse(rule: RateRuleName, retryAfterSeconds: number): AppError {
    this.refusals.inc({ rule });
    return errors.rateLimited(retryAfterSeconds);
  }

  /** A counter of refusals for one rule, for the status fast path (no label lookup per refusal). */
  refusalsOf(rule: RateRuleName): { inc(): void } {
    return this.refusals.labels({ rule });
  }

  /** onRequest: the client address within `limiter`'s limit, else 429. */
  byAddress(limiter: RateLimiter, rule: RateRuleName) {
    return (request: FastifyRequest, _reply: unknown, done: HookHandlerDoneFunction): void => {
      const wait = limiter.take(this.clientKey(request.raw));
      done(wait === 0 ? undefined : this.refuse(rule, wait));
    };
  }

  /** Throws 429 when `key` is over `limiter`'s limit (`limit` overrides the rule's). */
  take(limiter: RateLimiter, rule: RateRuleName, key: string, limit?: number): void {
    const wait = limiter.take(key, limit);
    if (wait > 0) throw this.refuse(rule, wait);
  }
}

/** Documents the 429 every route of this context may answer, in the OpenAPI document. */
export function documentRateLimited(app: FastifyInstance): void {
  app.addHook("onRoute", (route) => {
    const schema = route.schema as { response?: Record<string, unknown> } | undefined;
    if (schema?.response !== undefined && schema.response[429] === undefined) {
      Object.assign(schema.response, errorResponses(429));
    }
  });
}
