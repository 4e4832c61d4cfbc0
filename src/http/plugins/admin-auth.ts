import type { FastifyInstance } from "fastify";
import type { AdminDeps } from "../../services/applications.js";
import type { AuthService } from "../../services/auth.js";
import { TenantScope } from "../../services/scope.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The caller's tenant-scoped view of the domain; set for every route in the admin context. */
    scope: TenantScope;
  }
}

/**
 * Authenticates every request of the encapsulated context it is registered in and decorates the request
 * with the caller's TenantScope. Routes outside that context (visitor API, health) never see it.
 */
export function adminAuth(app: FastifyInstance, auth: AuthService, deps: AdminDeps): void {
  app.decorateRequest("scope", undefined as unknown as TenantScope);
  app.addHook("onRequest", async (request) => {
    const actor = await auth.authenticate(request.headers.authorization);
    request.scope = new TenantScope(actor, deps);
  });
}
