import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { type DashboardDeps, DashboardService } from "../../services/dashboard.js";
import {
  errorResponses,
  IdParams,
  Instant,
  NullableInteger,
  NullableNumber,
  PageOf,
  PageQuery,
  Uuid,
} from "../schemas.js";

const Count = Type.Integer({ minimum: 0 });
const Health = Type.Union([Type.Literal("up"), Type.Literal("down")]);

const Summary = Type.Object({
  generated_at: Instant,
  day_started_at: Type.String({ format: "date-time", description: "midnight UTC: where today starts" }),
  applications: Count,
  queues: Count,
  waiting: Type.Integer({ minimum: 0, description: "visitors waiting now, over the queues you can see" }),
  released: Type.Object({ last_hour: Count, today: Count }),
  expired_today: Type.Object(
    { abandoned: Count, not_seen: Count, admission_ended: Count },
    { description: "visitors whose place or admission ran out today, by why" },
  ),
  callbacks: Type.Object({
    failed_today: Type.Integer({ minimum: 0, description: "callbacks dead-lettered today" }),
    dead_letters: Type.Integer({ minimum: 0, description: "dead letters not yet retried or discarded" }),
  }),
  health: Type.Object({
    status: Type.Union([Type.Literal("ok"), Type.Literal("degraded")], {
      description: "degraded: the record or the index is down, or no worker has been heard from in 60 s",
    }),
    record: Health,
    index: Health,
    workers: Type.Array(
      Type.Object({
        id: Type.String(),
        host: Type.Optional(Type.String({ description: "admins only" })),
        pid: Type.Optional(Type.Integer({ description: "admins only" })),
        started_at: Instant,
        last_seen_at: Instant,
        status: Type.Union([Type.Literal("up"), Type.Literal("down")], {
          description: "down: no heartbeat for 60 s",
        }),
      }),
    ),
  }),
});

const QueueStats = Type.Object({
  queue_id: Uuid(),
  name: Type.String(),
  mode: Type.String(),
  waiting: Count,
  configured_rate_per_minute: Count,
  measured_rate_per_minute: Type.Number({
    minimum: 0,
    description: "releases a minute over the last 5 minutes",
  }),
  released_last_minute: Type.Integer({ minimum: 0, description: "visitors released in the last 60 s" }),
  joined_total: Type.Integer({
    minimum: 0,
    description: "joins since the queue was made (a counter: take a join rate from two readings)",
  }),
  oldest_waiting_joined_at: Type.Union([Instant, Type.Null()], {
    description: "when the visitor at the front of the line joined; null: nobody waits",
  }),
  longest_wait_seconds: Count,
  estimated_drain_seconds: Type.Union([Count, Type.Null()], {
    description: "waiting / the measured rate (the configured rate while nothing was released lately)",
  }),
  admitted_active: Type.Integer({ minimum: 0, description: "released visitors whose admission is still on" }),
  callbacks: Type.Object({
    pending: Type.Integer({ minimum: 0, description: "waiting for delivery, retries included" }),
    failed: Type.Integer({ minimum: 0, description: "dead letters not yet retried or discarded" }),
  }),
});

const QueueStatsQuery = Type.Object({ app_id: Uuid("the application") }, { additionalProperties: false });

const DeadLetter = Type.Object({
  id: Uuid(),
  event_id: Uuid("the callback's event id, as the site received it"),
  application_id: Uuid(),
  queue_id: Uuid(),
  url: Type.String(),
  attempts: Count,
  last_status: Type.Union([Type.Integer(), Type.Null()], {
    description: "the last HTTP status; null: no answer",
  }),
  last_error: Type.String(),
  created_at: Instant,
});

const ErrorsQuery = Type.Object(
  { ...PageQuery.properties, app_id: Type.Optional(Uuid("only this application's")) },
  { additionalProperties: false },
);

const NullableMs = NullableInteger({ minimum: 0 });
const AnalyticsPoint = {
  joins: Count,
  releases: Count,
  cancels: Count,
  expired: Type.Object(
    { abandoned: Count, not_seen: Count, admission_ended: Count },
    { description: "places and admissions that ran out, by why" },
  ),
  wait_ms: Type.Object(
    { p50: NullableMs, p90: NullableMs, p99: NullableMs },
    {
      description:
        "join-to-release wait of the visitors released in the bucket, in ms, within 5% of exact (4% before rounding to whole ms); null: nobody was released",
    },
  ),
  peak_waiting: Type.Integer({
    minimum: 0,
    description:
      "the longest line sampled every 15 s: of the queue, or of all an application's queues at once; over several applications, the sum of each one's peak",
  }),
  callbacks: Type.Object({
    delivered: Count,
    failed: Type.Integer({ minimum: 0, description: "dead-lettered after their retries" }),
    success_rate: NullableNumber({
      minimum: 0,
      maximum: 1,
      description: "delivered / (delivered + failed); null: none finished",
    }),
    duration_p95_ms: NullableInteger({
      minimum: 0,
      description: "95th percentile of successful deliveries' duration; null: none",
    }),
  }),
};

const Analytics = Type.Object({
  application_id: Type.Union([Uuid(), Type.Null()]),
  queue_id: Type.Union([Uuid(), Type.Null()]),
  days: Type.Integer({ minimum: 1, maximum: 90 }),
  granularity: Type.Union([Type.Literal("day"), Type.Literal("hour")]),
  from: Instant,
  to: Instant,
  generated_at: Instant,
  series: Type.Array(Type.Object({ start: Instant, ...AnalyticsPoint }), {
    description: "every bucket from `from` to `to`, oldest first (empty ones with zeros)",
  }),
  totals: Type.Object(AnalyticsPoint, { description: "the whole range" }),
});

const AnalyticsQuery = Type.Object(
  {
    app_id: Type.Optional(Uuid("only this application's (default: every application you can see)")),
    queue_id: Type.Optional(Uuid("only this queue's")),
    days: Type.Integer({
      minimum: 1,
      maximum: 90,
      default: 7,
      description: "the last N UTC days, today included",
    }),
    granularity: Type.Union([Type.Literal("day"), Type.Literal("hour")], { default: "day" }),
  },
  { additionalProperties: false },
);

const tags = ["dashboard"];
const security = [{ bearer: [] }];

/** The operator's dashboards (in the admin context: authenticated, tenant-scoped). */
export function dashboardRoutes(deps: DashboardDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    const dashboard = (scope: { access: ConstructorParameters<typeof DashboardService>[0] }) =>
      new DashboardService(scope.access, deps);

    app.get(
      "/dashboard/summary",
      {
        schema: {
          tags,
          security,
          summary: "What is happening now, over the applications you can see, and the system's health",
          response: { 200: Summary, ...errorResponses(401, 403) },
        },
      },
      async (request) => dashboard(request.scope).summary(),
    );

    app.get(
      "/dashboard/queue_stats",
      {
        schema: {
          tags,
          security,
          summary: "Each queue of an application: line, rates, longest wait, time to drain, callbacks",
          querystring: QueueStatsQuery,
          response: {
            200: Type.Object({ application_id: Uuid(), items: Type.Array(QueueStats) }),
            ...errorResponses(400, 401, 403, 404),
          },
        },
      },
      async (request) => dashboard(request.scope).queueStats(request.query.app_id),
    );

    app.get(
      "/dashboard/analytics",
      {
        schema: {
          tags,
          security,
          summary:
            "Joins, releases, expiries, wait percentiles, peak line and callbacks, per day or per hour",
          description:
            "From the worker's hourly rollups (events are counted about a minute after they happen); tickets are never read.",
          querystring: AnalyticsQuery,
          response: { 200: Analytics, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request) => {
        const { app_id, queue_id, days, granularity } = request.query;
        return dashboard(request.scope).analytics({
          ...(app_id === undefined ? {} : { applicationId: app_id }),
          ...(queue_id === undefined ? {} : { queueId: queue_id }),
          days,
          granularity,
        });
      },
    );

    app.get(
      "/dashboard/callback_errors",
      {
        schema: {
          tags,
          security,
          summary: "Dead-lettered callbacks (given up on after their retries), newest first",
          querystring: ErrorsQuery,
          response: { 200: PageOf(DeadLetter), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request) => {
        const { app_id, ...page } = request.query;
        return dashboard(request.scope).callbackErrors(page, app_id);
      },
    );

    app.post(
      "/dashboard/callback_errors/:id/retry",
      {
        schema: {
          tags,
          security,
          summary: "Send a dead-lettered callback again, with fresh attempts (operator, admin)",
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        await dashboard(request.scope).retry(request.params.id);
        return reply.status(204).send(null);
      },
    );

    app.delete(
      "/dashboard/callback_errors/:id",
      {
        schema: {
          tags,
          security,
          summary: "Discard a dead letter: its callback is not sent (operator, admin)",
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        await dashboard(request.scope).discard(request.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
