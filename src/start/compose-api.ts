import type { AppDeps } from "../app.js";
import { LoginThrottle } from "../domain/login-throttle.js";
import { type RateLimitSettings, RateLimits } from "../domain/rate-limit.js";
import type { SharedCounts } from "../domain/rate-limiter.js";
import { VisitorTokens } from "../domain/visitor-token.js";
import { syncRateCounts } from "../index/redis/rate-counts.js";
import type { ReadinessCheck } from "../observability/readiness.js";
import { AuthService } from "../services/auth.js";
import { VisitorDirectory } from "../services/directory.js";
import { JoinBatcher } from "../services/join-batcher.js";
import { QueueEventsHub, type QueueEventsOptions } from "../services/queue-events.js";
import { VisitorService } from "../services/visitors.js";
import { openFilesLimit, streamCapacity } from "./open-files.js";
import type { ProcessBasics, ProcessParts } from "./process.js";

/** How often shared rate counts are pushed to Redis (production). */
const RATE_SYNC_MS = 250;

export interface ApiSettings {
  adminTokenTtlSeconds: number;
  allowPrivateCallbacks: boolean;
  rateLimits: RateLimitSettings;
  trustProxy: false | number | string;
  version: string;
  /** Where /metrics is served: on this app (optionally behind a token), or not at all (a private port). */
  metricsEndpoint: { serve: boolean; token?: string | undefined };
}

export interface ApiDeps extends ProcessBasics {
  parts: ProcessParts;
  settings: ApiSettings;
  /** Dependencies /readyz asks about besides the record and what `shared` names. */
  readiness?: readonly ReadinessCheck[];
  /** Tests: a login throttle of their own, or rate counts shared elsewhere. */
  throttle?: LoginThrottle;
  rateCounts?: SharedCounts;
  /** Tests: live-update timings of their own (keepalive, coalescing, refresh). */
  liveUpdates?: QueueEventsOptions;
}

export interface ApiProcess {
  /** What buildApp takes: the services the routes call, nothing of the worker. */
  app: AppDeps;
  close(): void;
}

/**
 * The API process's composition root: the visitor path (tokens, caches, join batching, VisitorService),
 * logins, rate limits and the admin services' dependencies, over the record and the shared state.
 */
export function composeApi(deps: ApiDeps): ApiProcess {
  const { store, clock, keys, logger, shared, parts, settings } = deps;
  const directory = new VisitorDirectory(store, clock);
  const unsubscribe = shared.events.local.subscribe((change) => {
    if (change.kind === "application") directory.applicationChanged();
    else if (change.kind === "queue") directory.queueChanged(change.id);
  });
  const visitors = new VisitorService({
    store,
    index: shared.index,
    tokens: new VisitorTokens(keys.visitorToken, keys.previous?.visitorToken),
    admission: parts.admission,
    directory,
    batcher: new JoinBatcher(store, shared.index, clock, logger),
    clock,
    metrics: parts.metrics,
    logger,
    activity: parts.activity,
  });
  // Live updates: this process's connected visitors, refreshed on queue activity (worker releases, joins).
  const maxStreams = streamCapacity(openFilesLimit());
  const queueEvents = new QueueEventsHub({
    index: shared.index,
    visitors,
    clock,
    activity: parts.activity,
    logger,
    options: { ...(maxStreams === undefined ? {} : { maxStreams }), ...deps.liveUpdates },
  });
  parts.metrics.collectLiveStreams(() => queueEvents.size);
  // Login counters go where API processes share them: Redis in production (each process's own while it is
  // away), this process in embedded mode.
  const throttle =
    deps.throttle ??
    new LoginThrottle(clock, shared.loginAttempts === undefined ? {} : { store: shared.loginAttempts });
  const auth = new AuthService({
    store,
    clock,
    signingKey: keys.adminJwt,
    previousSigningKey: keys.previous?.adminJwt,
    tokenTtlSeconds: settings.adminTokenTtlSeconds,
    throttle,
  });
  const rateCounts = deps.rateCounts ?? shared.rateCounts;
  const rateLimits = new RateLimits(
    settings.rateLimits,
    clock,
    rateCounts === undefined ? {} : { shared: rateCounts },
  );
  const readiness: ReadinessCheck[] = [
    { name: "record", check: () => store.ping() },
    ...shared.readiness,
    ...(deps.readiness ?? []),
  ];
  const stopRateSync =
    rateCounts === undefined ? undefined : syncRateCounts(rateLimits, RATE_SYNC_MS, logger);
  return {
    app: {
      admin: {
        store,
        clock,
        keys,
        allowPrivateCallbacks: settings.allowPrivateCallbacks,
        events: shared.events.publish,
        queueIndex: shared.index,
      },
      auth,
      visitors,
      queueEvents,
      admission: parts.admission,
      metrics: parts.metrics,
      rateLimits,
      dashboard: { store, clock, index: shared.index, readiness },
      readiness,
      logger,
      trustProxy: settings.trustProxy,
      version: settings.version,
      metricsEndpoint: settings.metricsEndpoint,
    },
    close() {
      queueEvents.close();
      stopRateSync?.();
      unsubscribe();
    },
  };
}
