import type { Page, PageRequest, Queue, QueuePatch } from "../store/types.js";
import type { Access } from "./access.js";
import type { AdminDeps } from "./applications.js";
import { errors } from "./errors.js";
import { iso } from "./time.js";

export interface QueueInput {
  application_id: string;
  name: string;
  max_users_per_minute: number;
  priority?: number;
}

export type QueueUpdate = Partial<Omit<QueueInput, "application_id">>;

/** Queues as one tenant-scoped caller sees them: only those of applications the caller may see. */
export class QueueService {
  constructor(
    private readonly access: Access,
    private readonly deps: AdminDeps,
  ) {}

  private now(): string {
    return iso(this.deps.clock.now());
  }

  private async requireApplication(applicationId: string): Promise<void> {
    const app = this.access.canSee(applicationId)
      ? await this.deps.store.applications.findById(applicationId)
      : undefined;
    if (app === undefined) throw errors.notFound("application");
  }

  async create(input: QueueInput): Promise<Queue> {
    await this.requireApplication(input.application_id);
    this.access.require("queue:write");
    return this.deps.store.queues.create(
      {
        application_id: input.application_id,
        name: input.name.trim(),
        max_users_per_minute: input.max_users_per_minute,
        priority: input.priority ?? 0,
      },
      this.now(),
    );
  }

  async list(page: PageRequest, applicationId?: string): Promise<Page<Queue>> {
    this.access.require("queue:read");
    if (applicationId !== undefined && !this.access.canSee(applicationId)) return { items: [], total: 0 };
    return this.deps.store.queues.list(
      applicationId === undefined
        ? { visible: this.access.visibility }
        : { visible: this.access.visibility, applicationId },
      page,
    );
  }

  async get(id: string): Promise<Queue> {
    const queue = await this.deps.store.queues.findById(id);
    if (queue === undefined || !this.access.canSee(queue.application_id)) throw errors.notFound("queue");
    this.access.require("queue:read");
    return queue;
  }

  async update(id: string, input: QueueUpdate): Promise<Queue> {
    await this.get(id);
    this.access.require("queue:write");
    const patch: QueuePatch = {};
    if (input.name !== undefined) patch.name = input.name.trim();
    if (input.max_users_per_minute !== undefined) patch.max_users_per_minute = input.max_users_per_minute;
    if (input.priority !== undefined) patch.priority = input.priority;
    const updated = await this.deps.store.queues.update(id, patch, this.now());
    if (updated === undefined) throw errors.notFound("queue");
    return updated;
  }

  async remove(id: string): Promise<void> {
    await this.get(id);
    this.access.require("queue:write");
    if (!(await this.deps.store.queues.softDelete(id, this.now()))) throw errors.notFound("queue");
  }
}
