import { createServer } from "node:http";
import formbody from "@fastify/formbody";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import type { RateLimits } from "./domain/rate-limit.js";
import { type ClientBundle, clientBundle } from "./http/client-bundle.js";
import { fastStatusHandler } from "./http/fast-status.js";
import { adminAuth } from "./http/plugins/admin-auth.js";
import { registerVisitorCors } from "./http/plugins/cors.js";
import { registerErrorHandling } from "./http/plugins/errors.js";
import { registerOpenApi } from "./http/plugins/openapi.js";
import { clientKeyOf, compileTrust, documentRateLimited, RequestLimits } from "./http/plugins/rate-limit.js";
import { registerRequestContext } from "./http/plugins/request-context.js";
import { registerSecurityHeaders } from "./http/plugins/security-headers.js";
import { registerValidation } from "./http/plugins/validation.js";
import { registerWellFormedText } from "./http/plugins/well-formed.js";
import { requestIdOf } from "./http/request-id.js";
import { adminRoutes } from "./http/routes/admin.js";
import { admissionRoutes } from "./http/routes/admission.js";
import { alertRoutes } from "./http/routes/alerts.js";
import { applicationRoutes } from "./http/routes/applications.js";
import { meRoute, tokenRoute } from "./http/routes/auth.js";
import { dashboardRoutes } from "./http/routes/dashboard.js";
import { eventRoutes } from "./http/routes/events.js";
import { healthRoutes } from "./http/routes/health.js";
import { metricsRoute } from "./http/routes/metrics.js";
import { publicRoutes } from "./http/routes/public.js";
import { queueRoutes } from "./http/routes/queues.js";
import { scriptRoutes } from "./http/routes/scripts.js";
import { signingKeyRoutes } from "./http/routes/signing-keys.js";
import { userRoutes } from "./http/routes/users.js";
import { visitorRoutes } from "./http/routes/visitor.js";
import { waitRoutes } from "./http/routes/wait.js";
import type { Metrics } from "./observability/metrics.js";
import type { ReadinessCheck } from "./observability/readiness.js";
import type { AdmissionKeys } from "./services/admission-keys.js";
import type { AdminDeps } from "./services/applications.js";
import type { AuthService } from "./services/auth.js";
import type { DashboardDeps } from "./services/dashboard.js";
import type { QueueEventsHub } from "./services/queue-events.js";
import type { VisitorService } from "./services/visitors.js";

/** What the HTTP application needs: the services its routes call (start/compose-api.ts builds them). */
export interface AppDeps {
  /** What the admin services work with; each request gets them narrowed to its caller (TenantScope). */
  admin: AdminDeps;
  auth: AuthService;
  visitors: VisitorService;
  /** Live updates (GET /queue_events); without it the route is not served. */
  queueEvents?: QueueEventsHub;
  /** What the dashboards read (GET /dashboard/...); without it they are not served. */
  dashboard?: DashboardDeps;
  /** The JWKS and signing-key rotation. */
  admission: AdmissionKeys;
  metrics: Metrics;
  rateLimits: RateLimits;
  readiness: readonly ReadinessCheck[];
  logger?: FastifyBaseLogger;
  trustProxy?: false | number | string;
  version?: string;
  /** Where /metrics is served: on this app (optionally behind a token), or not at all (a private port). */
  metricsEndpoint?: { serve: boolean; token?: string | undefined };
  /** The browser scripts; by default built from client/ once per process (http/client-bundle.ts). */
  clientBundle?: ClientBundle;
}

/** Builds the HTTP application. It never listens: start/server.ts does, and tests use `app.inject`. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  // One trust rule and one set of limits for both the routed handlers and the status fast path.
  const trust = compileTrust(deps.trustProxy);
  const limits = deps.rateLimits;
  const guard = new RequestLimits(limits, clientKeyOf(trust), deps.metrics.registry);
  const fastStatus = fastStatusHandler({
    visitors: deps.visitors,
    metrics: deps.metrics,
    logger: deps.logger as Logger | undefined,
    limiter: limits.status,
    clientKey: guard.clientKey,
    refusals: guard.refusalsOf("status"),
  });
  const app = Fastify({
    serverFactory: (handler) => {
      const server = createServer((req, res) => {
        if (!fastStatus(req, res)) handler(req, res);
      });
      server.keepAliveTimeout = 72_000;
      return server;
    },
    ...(deps.logger === undefined ? { logger: false } : { loggerInstance: deps.logger }),
    logController: new LogController({ disableRequestLogging: true }),
    // One logger for all requests: creating a child per request costs more than the visitor path itself.
    childLoggerFactory: (logger) => logger,
    trustProxy: trust,
    routerOptions: { ignoreTrailingSlash: true },
    bodyLimit: 64 * 1024,
    genReqId: (request) => requestIdOf(request.headers["x-request-id"]),
  }).withTypeProvider<TypeBoxTypeProvider>();

  registerErrorHandling(app);
  registerValidation(app);
  registerWellFormedText(app);
  // Bodies are JSON (or a form, for the OAuth token endpoint); anything else is a 415.
  app.removeContentTypeParser("text/plain");
  registerRequestContext(app, deps.metrics);
  registerSecurityHeaders(app);
  await registerOpenApi(app, deps.version ?? "0.0.0");

  await app.register(healthRoutes(deps.readiness));
  if (deps.metricsEndpoint?.serve !== false) {
    await app.register(metricsRoute(deps.metrics, { token: deps.metricsEndpoint?.token }));
  }
  registerVisitorCors(app, ["/join", "/queue_status", "/cancel", "/queue_events"]);
  await app.register(visitorRoutes(deps.visitors, guard));
  if (deps.queueEvents !== undefined) await app.register(eventRoutes(deps.visitors, deps.queueEvents, guard));
  await app.register(admissionRoutes(deps.visitors, deps.admission, guard));
  await app.register(publicRoutes(deps.visitors, guard));
  const scripts = deps.clientBundle ?? (await clientBundle());
  await app.register(scriptRoutes(scripts));
  await app.register(adminRoutes());
  await app.register(
    waitRoutes({
      visitors: deps.visitors,
      guard,
      keys: deps.admin.keys,
      findQueue: (queueId) => deps.admin.store.queues.findActive(queueId),
      waitScript: () => scripts.wait.hashedPath,
    }),
  );
  // Form bodies only where OAuth2 requires them: every other route takes JSON.
  await app.register(async (oauth) => {
    await oauth.register(formbody);
    await oauth.register(tokenRoute(deps.auth));
  });
  await app.register(async (admin) => {
    // Limited per client address before authentication, which may cost a record read.
    admin.addHook("onRequest", guard.byAddress(limits.admin, "admin"));
    documentRateLimited(admin);
    adminAuth(admin, deps.auth, deps.admin);
    await admin.register(signingKeyRoutes(deps.admission, deps.admin.events));
    await admin.register(meRoute);
    await admin.register(applicationRoutes);
    await admin.register(queueRoutes);
    await admin.register(userRoutes);
    if (deps.dashboard !== undefined) await admin.register(dashboardRoutes(deps.dashboard));
    await admin.register(alertRoutes(deps.admin.store));
  });
  return app;
}
