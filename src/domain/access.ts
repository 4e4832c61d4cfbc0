import { errors } from "./errors.js";
import type { Role, Visibility } from "./model.js";

/**
 * Who is calling and what they may do. Visibility is checked before permission, so a resource of
 * another tenant is a 404 (its existence is not revealed) and a visible one the role cannot change is a 403.
 */
export type Permission =
  | "application:create"
  | "application:read"
  | "application:write"
  | "application:delete"
  | "queue:read"
  | "queue:write"
  | "user:manage"
  | "keys:rotate";

const READ: Permission[] = ["application:read", "queue:read"];
const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  admin: new Set<Permission>([
    ...READ,
    "application:create",
    "application:write",
    "application:delete",
    "queue:write",
    "user:manage",
    "keys:rotate",
  ]),
  operator: new Set<Permission>([...READ, "application:write", "queue:write"]),
  viewer: new Set<Permission>(READ),
};

export const ROLES: readonly Role[] = ["admin", "operator", "viewer"];

export interface Actor {
  userId: string;
  email: string;
  role: Role;
  /** Applications granted to an operator or viewer; admins see every application. */
  grants: readonly string[];
}

export class Access {
  private readonly granted: ReadonlySet<string>;
  constructor(readonly actor: Actor) {
    this.granted = new Set(actor.grants);
  }

  get visibility(): Visibility {
    return this.actor.role === "admin" ? "all" : this.actor.grants;
  }

  canSee(applicationId: string): boolean {
    return this.actor.role === "admin" || this.granted.has(applicationId);
  }

  can(permission: Permission): boolean {
    return ROLE_PERMISSIONS[this.actor.role].has(permission);
  }

  require(permission: Permission): void {
    if (!this.can(permission)) throw errors.forbidden(`role "${this.actor.role}" may not ${permission}`);
  }
}
