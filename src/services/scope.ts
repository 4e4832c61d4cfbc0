import { Access, type Actor } from "../domain/access.js";
import { type AdminDeps, ApplicationService } from "./applications.js";
import { QueueService } from "./queues.js";
import { UserService } from "./users.js";

/** Everything an authenticated admin-API caller can reach, already narrowed to their tenant. */
export class TenantScope {
  readonly access: Access;
  readonly applications: ApplicationService;
  readonly queues: QueueService;
  readonly users: UserService;

  constructor(
    readonly actor: Actor,
    deps: AdminDeps,
  ) {
    this.access = new Access(actor);
    this.applications = new ApplicationService(this.access, deps);
    this.queues = new QueueService(this.access, deps);
    this.users = new UserService(this.access, deps);
  }
}
