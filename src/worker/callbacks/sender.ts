import type { LookupAddress } from "node:dns";
import type { LookupFunction } from "node:net";
import { performance } from "node:perf_hooks";
import { Agent, request } from "undici";
import { AppError } from "../../domain/errors.js";
import { checkCallbackUrl, dnsResolver, isPublicAddress, type Resolver } from "../../net/address-policy.js";

export interface DeliveryResult {
  ok: boolean;
  status?: number;
  error?: string;
  durationMs: number;
}

export interface CallbackSender {
  /**
   * POST body (already-serialized JSON) to url with the given extra headers. ok is true only for a 2xx
   * answer. Never throws: every failure (DNS, refused address, connect error, timeout, non-2xx) is
   * reported in the result with a short error string.
   */
  send(url: string, body: string, headers: Record<string, string>): Promise<DeliveryResult>;
  close(): Promise<void>;
}

export interface CallbackSenderOptions {
  allowPrivate: boolean;
  timeoutMs: number;
  resolve?: Resolver;
  userAgent?: string;
}

/** Enough for any sane acknowledgement; past this the socket is dropped rather than drained. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** The name-based half of the check is done by the lookup itself, so the pre-check must not resolve. */
const noResolve: Resolver = async () => [];

class RefusedAddressError extends Error {
  readonly code = "ERR_CALLBACK_ADDRESS_REFUSED";
}

/**
 * A net/tls `lookup` that resolves through `resolve` and refuses non-public answers. Plugged into the
 * Agent's connector, the address checked here is the address the socket connects to, so a DNS answer
 * that changes between a check and the connect (rebinding) cannot slip through.
 */
export function createPinnedLookup(resolve: Resolver, allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    const pick = (found: { address: string; family: number }[]): LookupAddress[] => {
      if (!allowPrivate) {
        // Any private answer refuses the host: a later connect attempt could land on it.
        const refused = found.find((entry) => !isPublicAddress(entry.address));
        if (refused !== undefined) {
          throw new RefusedAddressError(`host ${hostname} resolves to non-public address ${refused.address}`);
        }
      }
      const family = options.family === 4 || options.family === 6 ? options.family : 0;
      const usable = found.filter((entry) => family === 0 || entry.family === family);
      if (usable.length === 0) {
        throw Object.assign(new Error(`host ${hostname} did not resolve`), { code: "ENOTFOUND" });
      }
      return usable.map((entry) => ({ address: entry.address, family: entry.family }));
    };
    resolve(hostname)
      .then(pick)
      .then(
        (addresses) => {
          const first = addresses[0];
          if (options.all === true) callback(null, addresses);
          else if (first !== undefined) callback(null, first.address, first.family);
        },
        (err: unknown) => {
          const error = err instanceof Error ? err : new Error(String(err));
          callback(error, options.all === true ? [] : "");
        },
      );
  };
}

function lowercaseKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

function describeError(err: unknown, timeoutMs: number): string {
  if (err instanceof AppError || err instanceof RefusedAddressError) return err.message;
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  if (
    err.name === "TimeoutError" ||
    err.name === "AbortError" ||
    code === "UND_ERR_HEADERS_TIMEOUT" ||
    code === "UND_ERR_BODY_TIMEOUT" ||
    code === "UND_ERR_CONNECT_TIMEOUT"
  ) {
    return `timed out after ${timeoutMs} ms`;
  }
  // Happy-eyeballs connects fail with an AggregateError whose own message is empty.
  if (err instanceof AggregateError && err.message === "") {
    const inner = err.errors.find((e): e is Error => e instanceof Error);
    if (inner !== undefined) return describeError(inner, timeoutMs);
  }
  // OpenSSL messages span lines and run long; a delivery log wants one short line.
  const message = (err.message.split("\n")[0] || err.name).slice(0, 200);
  return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
}

export function createCallbackSender(options: CallbackSenderOptions): CallbackSender {
  const { allowPrivate, timeoutMs } = options;
  const userAgent = options.userAgent ?? "Anteroom-Callback/1";
  const agent = new Agent({
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: {
      timeout: timeoutMs,
      lookup: createPinnedLookup(options.resolve ?? dnsResolver, allowPrivate),
    },
  });

  async function deliver(url: string, body: string, extra: Record<string, string>, signal: AbortSignal) {
    // Node never calls `lookup` for IP-literal hosts, so literals are checked here; names are checked
    // (and pinned) by the lookup, hence no resolving in this pre-check.
    await checkCallbackUrl(url, { allowPrivate, resolve: noResolve });
    const response = await request(url, {
      dispatcher: agent,
      method: "POST",
      headers: { ...lowercaseKeys(extra), "content-type": "application/json", "user-agent": userAgent },
      body,
      signal,
    });
    // Draining lets keep-alive reuse the socket; an oversized or slow body just gets the socket closed.
    await response.body.dump({ limit: MAX_RESPONSE_BYTES, signal }).catch(() => undefined);
    // undici frees the connection a tick after the body ends; without this wait, back-to-back sends
    // each find it still busy and open a fresh connection (and lookup) every other time.
    await new Promise((resolve) => setImmediate(resolve));
    return response.statusCode;
  }

  /**
   * One deadline for the whole delivery. The signal alone is not enough: undici only honours an abort
   * once a socket is connected, so a slow lookup or connect would otherwise run until its own
   * connect timeout, which uses coarse (~1 s) timers.
   */
  async function deliverWithin(url: string, body: string, extra: Record<string, string>) {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = Object.assign(new Error(`timed out after ${timeoutMs} ms`), { name: "TimeoutError" });
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    try {
      return await Promise.race([deliver(url, body, extra, controller.signal), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async send(url, body, headers) {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      try {
        const status = await deliverWithin(url, body, headers);
        if (status >= 200 && status < 300) return { ok: true, status, durationMs: elapsed() };
        // Redirects are not followed: the registered URL must answer itself, and following one would
        // re-open the SSRF question for a target nobody checked at registration.
        const error = status >= 300 && status < 400 ? `redirect (${status}) not followed` : `HTTP ${status}`;
        return { ok: false, status, error, durationMs: elapsed() };
      } catch (err) {
        return { ok: false, error: describeError(err, timeoutMs), durationMs: elapsed() };
      }
    },
    async close() {
      await agent.close();
    },
  };
}
