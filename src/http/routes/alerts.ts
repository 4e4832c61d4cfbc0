import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { listAlerts } from "../../services/alerts/history.js";
import type { Store } from "../../store/types.js";
import { errorResponses, Instant, PageOf, PageQuery, Uuid } from "../schemas.js";

const AlertKindSchema = Type.Union(
  [
    Type.Literal("queue_length"),
    Type.Literal("dead_letters"),
    Type.Literal("release_stalled"),
    Type.Literal("worker_down"),
    Type.Literal("record_down"),
    Type.Literal("index_down"),
  ],
  {
    description:
      "queue_length: above its threshold; dead_letters: callbacks given up; release_stalled; system alerts (admins only): worker_down, record_down, index_down",
  },
);
const AlertStateSchema = Type.Union([Type.Literal("firing"), Type.Literal("resolved")]);

const AlertSchema = Type.Object({
  id: Type.String(),
  kind: AlertKindSchema,
  subject: Type.String({
    description:
      "what the alert is about: a queue's id (queue_length, release_stalled), an application's (dead_letters), a worker's (worker_down) or the component (record, index)",
  }),
  application_id: Type.Union([Type.String(), Type.Null()], { description: "null: a system-wide alert" }),
  state: AlertStateSchema,
  fired_at: Instant,
  resolved_at: Type.Union([Instant, Type.Null()]),
  last_notified_at: Type.Union([Instant, Type.Null()]),
  details: Type.Record(
    Type.String(),
    Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]),
  ),
});

const AlertQuery = Type.Object(
  {
    ...PageQuery.properties,
    app_id: Type.Optional(Uuid("only this application's alerts")),
    state: Type.Optional(AlertStateSchema),
  },
  { additionalProperties: false },
);

/** The alert history (any role, tenant-scoped). */
export function alertRoutes(store: Pick<Store, "alerts">): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      "/dashboard/alerts",
      {
        schema: {
          tags: ["dashboard"],
          security: [{ bearer: [] }],
          summary: "Alert history, newest first",
          description:
            "Alerts that fired, and when they resolved. Operators and viewers see their applications' alerts; " +
            "system-wide ones (no application) only admins.",
          querystring: AlertQuery,
          response: { 200: PageOf(AlertSchema), ...errorResponses(400, 401) },
        },
      },
      async (request) => {
        const { app_id, state, limit, offset } = request.query;
        return listAlerts(
          request.scope.access,
          store,
          {
            ...(app_id === undefined ? {} : { applicationId: app_id }),
            ...(state === undefined ? {} : { state }),
          },
          { limit, offset },
        );
      },
    );
  };
}
