import type { Access } from "../domain/access.js";
import { errors } from "../domain/errors.js";
import type { PageSettings } from "../domain/model.js";
import { iso } from "../domain/time.js";
import type { Page, PageRequest, Queue, QueueMode, QueuePatch } from "../store/types.js";
import type { AdminDeps } from "./applications.js";

/** Per-queue defaults for the expiry rules and the admission token's lifetime. */
export const QUEUE_DEFAULTS = {
  release_ttl_seconds: 600,
  abandon_after_seconds: 300,
  admission_ttl_seconds: 3600,
} as const;

export interface QueueSettings {
  name: string;
  max_users_per_minute: number;
  priority?: number;
  release_ttl_seconds?: number;
  abandon_after_seconds?: number;
  admission_ttl_seconds?: number;
  redirect_url?: string | null;
  page?: PageSettings | null;
  alert_threshold?: number | null;
}

export interface QueueInput extends QueueSettings {
  application_id: string;
  mode?: QueueMode;
}

export type QueueUpdate = Partial<QueueSettings>;

/** The redirect URL in its normal form (percent-encoded), or null; a 400 naming the field if unusable. */
function normalizeRedirect(url: string | null | undefined): string | null | undefined {
  if (url === null || url === undefined) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw errors.validation("redirect_url", "is not a valid absolute URL");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw errors.validation("redirect_url", "must use http or https");
  }
  return parsed.toString();
}

/**
 * The waiting page's settings with the logo in its normal form; the schema has checked the rest (languages,
 * lengths, colour). The logo must be https: the page is served over https and its CSP allows no other.
 */
function normalizePage(page: PageSettings | null | undefined): PageSettings | null | undefined {
  if (page === null || page === undefined || page.logo_url === undefined) return page;
  let parsed: URL | undefined;
  try {
    parsed = new URL(page.logo_url);
  } catch {
    parsed = undefined;
  }
  if (parsed?.protocol !== "https:" || parsed.username !== "" || parsed.password !== "") {
    throw errors.validation("page.logo_url", "must be an absolute https URL without credentials");
  }
  return { ...page, logo_url: parsed.toString() };
}

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
    const redirectUrl = normalizeRedirect(input.redirect_url);
    const page = normalizePage(input.page);
    const queue = await this.deps.store.queues.create(
      {
        application_id: input.application_id,
        name: input.name.trim(),
        max_users_per_minute: input.max_users_per_minute,
        priority: input.priority ?? 0,
        mode: input.mode ?? "live",
        release_ttl_seconds: input.release_ttl_seconds ?? QUEUE_DEFAULTS.release_ttl_seconds,
        abandon_after_seconds: input.abandon_after_seconds ?? QUEUE_DEFAULTS.abandon_after_seconds,
        admission_ttl_seconds: input.admission_ttl_seconds ?? QUEUE_DEFAULTS.admission_ttl_seconds,
        redirect_url: redirectUrl ?? null,
        page: page ?? null,
        alert_threshold: input.alert_threshold ?? null,
      },
      this.now(),
    );
    await this.deps.queueIndex.markLoaded(queue.id);
    this.deps.events.queueChanged(queue.id);
    return queue;
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
    const redirectUrl = normalizeRedirect(input.redirect_url);
    const page = normalizePage(input.page);
    const patch: QueuePatch = {};
    for (const key of [
      "max_users_per_minute",
      "priority",
      "release_ttl_seconds",
      "abandon_after_seconds",
      "admission_ttl_seconds",
    ] as const) {
      const value = input[key];
      if (value !== undefined) patch[key] = value;
    }
    if (input.alert_threshold !== undefined) patch.alert_threshold = input.alert_threshold;
    if (input.name !== undefined) patch.name = input.name.trim();
    if (redirectUrl !== undefined) patch.redirect_url = redirectUrl;
    if (page !== undefined) patch.page = page;
    const updated = await this.deps.store.queues.update(id, patch, this.now());
    if (updated === undefined) throw errors.notFound("queue");
    this.deps.events.queueChanged(id);
    return updated;
  }

  async remove(id: string): Promise<void> {
    await this.get(id);
    this.access.require("queue:write");
    if (!(await this.deps.store.queues.softDelete(id, this.now()))) throw errors.notFound("queue");
    this.deps.events.queueChanged(id);
  }
}
