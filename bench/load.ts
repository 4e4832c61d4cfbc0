// Load generation with autocannon, in the bench process. Every load function takes a LIST of base URLs and
// splits its connections across them: one autocannon instance per URL, all running in parallel, their
// results merged into one Measured (see merge() for how latencies combine).
import autocannon from "autocannon";
import type { Fixture } from "./fixture.js";
import { log } from "./processes.js";

/** Non-2xx responses and connection errors allowed in a measured run before the bench fails. */
export const MAX_ERROR_RATE = 0.01;

export interface Measured {
  label: string;
  /** Wall-clock seconds the longest instance was sending (its request-building time excluded). */
  seconds: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** 2xx responses per second, summed over the instances. */
  perSecond: number;
  /** Milliseconds; the request-weighted mean of the instances' p50s. */
  p50: number;
  /** Milliseconds; the largest of the instances' p99s. */
  p99: number;
  codes: Record<string, number>;
}

/** What one run sends, apart from the URLs. `connections` and `amount` are totals over all URLs. */
export interface Load {
  connections: number;
  duration?: number;
  amount?: number;
  sampleInt?: number;
  requests?: autocannon.Request[];
  setupClient?: (client: autocannon.Client) => void;
}

/** `total` split into `parts` near-equal integers, the larger ones first. */
function splitEvenly(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

function instanceOptions(url: string, load: Load, connections: number, amount: number | undefined) {
  // Only defined keys: autocannon merges its defaults with Object.assign, so `undefined` would erase them.
  const options: autocannon.Options = { url, connections };
  if (load.duration !== undefined) options.duration = load.duration;
  if (amount !== undefined) options.amount = amount;
  if (load.sampleInt !== undefined) options.sampleInt = load.sampleInt;
  if (load.requests !== undefined) options.requests = load.requests;
  if (load.setupClient !== undefined) options.setupClient = load.setupClient;
  return options;
}

/**
 * Runs `load` against every URL in parallel and merges the results. Stops every instance at `deadlineMs`
 * at the latest, so nothing runs unbounded, and as soon as one instance fails.
 */
export async function cannon(
  label: string,
  baseUrls: readonly string[],
  load: Load,
  deadlineMs: number,
): Promise<Measured> {
  if (baseUrls.length === 0 || load.connections < baseUrls.length) {
    throw new Error(`${label}: ${load.connections} connections cannot cover ${baseUrls.length} URLs`);
  }
  const connections = splitEvenly(load.connections, baseUrls.length);
  const amounts = load.amount === undefined ? undefined : splitEvenly(load.amount, baseUrls.length);
  const instances: autocannon.Instance[] = [];
  const stopAll = (): void => {
    for (const instance of instances) instance.stop();
  };
  const timer = setTimeout(() => {
    log(`${label}: still running after ${deadlineMs} ms, stopping it`);
    stopAll();
  }, deadlineMs);
  try {
    // autocannon() builds every connection's requests synchronously after starting its clock; no instance
    // can send anything until the last one is built. That dead time is taken off each instance's duration.
    const created: number[] = [];
    baseUrls.forEach((url, i) => {
      created.push(performance.now());
      instances.push(autocannon(instanceOptions(url, load, connections[i] ?? 1, amounts?.[i])));
    });
    const ready = performance.now();
    const results = await Promise.all(instances.map((instance) => Promise.resolve(instance)));
    const deadSeconds = created.map((at) => (ready - at) / 1000);
    return merge(label, results, deadSeconds);
  } catch (error) {
    stopAll();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Sums counts and rates over the instances. Latency percentiles cannot be merged exactly without the
 * histograms, so: p99 = the largest per-instance p99 (the p99 of the pooled requests is never above it,
 * so this is conservative); p50 = the mean of per-instance p50s weighted by their 2xx counts (the pooled
 * p50 lies between the smallest and largest of them, as does this mean). With one URL both are exact.
 */
function merge(label: string, results: readonly autocannon.Result[], deadSeconds: number[]): Measured {
  const merged: Measured = {
    label,
    seconds: 0,
    ok: 0,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    perSecond: 0,
    p50: 0,
    p99: 0,
    codes: {},
  };
  let weightedP50 = 0;
  for (const [i, result] of results.entries()) {
    const ok = result["2xx"];
    const seconds = Math.max(0.001, result.duration - (deadSeconds[i] ?? 0));
    merged.seconds = Math.max(merged.seconds, seconds);
    merged.ok += ok;
    merged.non2xx += result.non2xx;
    merged.errors += result.errors;
    merged.timeouts += result.timeouts;
    merged.perSecond += ok / seconds;
    merged.p99 = Math.max(merged.p99, result.latency.p99);
    weightedP50 += result.latency.p50 * ok;
    for (const [code, stat] of Object.entries(result.statusCodeStats)) {
      merged.codes[code] = (merged.codes[code] ?? 0) + stat.count;
    }
  }
  const p50s = results.map((result) => result.latency.p50);
  merged.p50 =
    merged.ok > 0 ? weightedP50 / merged.ok : p50s.reduce((a, b) => a + b, 0) / Math.max(1, p50s.length);
  return merged;
}

/** Share of non-2xx responses and connection errors; 1 when nothing was answered at all. */
export function errorRate(run: Measured): number {
  const total = run.ok + run.non2xx + run.errors;
  return total === 0 ? 1 : (run.non2xx + run.errors) / total;
}

export function describeRun(run: Measured): string {
  const codes = Object.entries(run.codes)
    .map(([code, count]) => `${code}:${count}`)
    .join(" ");
  return (
    `${run.ok} ok in ${run.seconds.toFixed(1)} s; non-2xx ${run.non2xx}, connection errors ${run.errors} ` +
    `(timeouts ${run.timeouts}); status codes ${codes || "none"}`
  );
}

/** GET / on the plain server. */
export function plainLoad(connections: number, duration: number): Load {
  return { connections, duration };
}

/**
 * POST /join, each with a visitor_id never used before (joining is idempotent per visitor). One request
 * template for every connection; setupRequest only fills in the body.
 */
export function joinRequests(
  fixture: Fixture,
  prefix: string,
  onJoined?: (status: number, body: string) => void,
): autocannon.Request[] {
  let next = 0;
  return [
    {
      method: "POST",
      path: "/join",
      headers: { "content-type": "application/json", "x-api-key": fixture.apiKey },
      setupRequest: (request) => ({
        ...request,
        body: JSON.stringify({ queue_id: fixture.queueId, visitor_id: `${prefix}-${next++}` }),
      }),
      ...(onJoined === undefined
        ? {}
        : { onResponse: (status: number, body: string) => onJoined(status, body) }),
    },
  ];
}

export interface PreJoined {
  tokens: string[];
  ms: number;
  run: Measured;
}

/** Joins `count` visitors (fresh ids) as fast as possible and keeps their tokens. */
export async function preJoin(
  baseUrls: readonly string[],
  fixture: Fixture,
  count: number,
  connections: number,
): Promise<PreJoined> {
  const tokens: string[] = [];
  const started = performance.now();
  const requests = joinRequests(fixture, "pre", (status, body) => {
    if (status !== 200) return;
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === "object" && parsed !== null && "token" in parsed) {
      const token = parsed.token;
      if (typeof token === "string") tokens.push(token);
    }
  });
  // sampleInt 100: the run ends on the first sample after the last response.
  const run = await cannon(
    "pre-join",
    baseUrls,
    { connections, amount: count, sampleInt: 100, requests },
    300_000,
  );
  const ms = performance.now() - started;
  if (tokens.length < count * (1 - MAX_ERROR_RATE)) {
    throw new Error(`pre-join got only ${tokens.length} of ${count} tokens: ${describeRun(run)}`);
  }
  return { tokens, ms, run };
}

/**
 * Status polls over every pre-joined token. Each connection (counted over all URLs) cycles through its own
 * share of the tokens as a fixed request list, which autocannon encodes once, so the load generator spends
 * no more per request than on the plain server's single URL (generator and servers share the cores).
 * Returns a factory: call it once per run, so every run hands the shares out from the start again.
 */
export function statusLoad(tokens: readonly string[]): (connections: number, duration: number) => Load {
  const paths = tokens.map((token) => `/queue_status?token=${encodeURIComponent(token)}`);
  return (connections, duration) => {
    const share = Math.max(1, Math.ceil(paths.length / connections));
    let next = 0;
    return {
      connections,
      duration,
      requests: [{ method: "GET", path: paths[0] ?? "/queue_status" }],
      setupClient: (client) => {
        const start = (next++ % connections) * share;
        const mine = paths.slice(start, start + share);
        client.setRequests(
          (mine.length > 0 ? mine : paths.slice(0, 1)).map((path) => ({ method: "GET", path })),
        );
      },
    };
  };
}

/** POST /join for `duration` seconds over all URLs; visitor ids are `<prefix>-<n>`. */
export function joinLoad(fixture: Fixture, prefix: string, connections: number, duration: number): Load {
  return { connections, duration, requests: joinRequests(fixture, prefix) };
}
