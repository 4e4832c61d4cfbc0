import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { ReadinessCheck } from "../../observability/readiness.js";

const Readiness = Type.Object({
  status: Type.Union([Type.Literal("ready"), Type.Literal("unavailable")]),
  checks: Type.Record(
    Type.String(),
    Type.Object({ ok: Type.Boolean(), error: Type.Optional(Type.String()) }),
  ),
});

/** `/healthz`: the process is alive. `/readyz`: each dependency answers, so a balancer may send traffic. */
export function healthRoutes(checks: readonly ReadinessCheck[]): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      "/healthz",
      { schema: { tags: ["operations"], response: { 200: Type.Object({ status: Type.Literal("ok") }) } } },
      async () => ({ status: "ok" as const }),
    );

    app.get(
      "/readyz",
      { schema: { tags: ["operations"], response: { 200: Readiness, 503: Readiness } } },
      async (request, reply) => {
        const results = await Promise.all(
          checks.map(async (dependency) => {
            try {
              await withTimeout(dependency.check(), 2000);
              return [dependency.name, { ok: true }] as const;
            } catch (error) {
              // The detail (host names, ports) goes to the log, not to an unauthenticated caller.
              request.log.warn({ err: error, dependency: dependency.name }, "readiness check failed");
              return [dependency.name, { ok: false, error: "unreachable" }] as const;
            }
          }),
        );
        const ready = results.every(([, result]) => result.ok);
        return reply
          .status(ready ? 200 : 503)
          .send({ status: ready ? "ready" : "unavailable", checks: Object.fromEntries(results) });
      },
    );
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
