import type { PageSettings } from "../../domain/model.js";
import type { OriginPolicy, Page, PageRequest, QueueMode, Visibility } from "../types.js";

export interface Queue {
  id: string;
  application_id: string;
  name: string;
  max_users_per_minute: number;
  priority: number;
  mode: QueueMode;
  release_ttl_seconds: number;
  abandon_after_seconds: number;
  admission_ttl_seconds: number;
  redirect_url: string | null;
  /** The waiting page's title, message, logo and accent colour; null: the defaults. */
  page: PageSettings | null;
  /** Queue length above which an alert fires; null: QUEUE_THRESHOLD. */
  alert_threshold: number | null;
  created_at: string;
  updated_at: string;
}

export type NewQueue = Omit<Queue, "id" | "created_at" | "updated_at">;

export type QueuePatch = Partial<Omit<NewQueue, "application_id" | "mode">>;

export interface QueueFilter {
  visible: Visibility;
  applicationId?: string;
}

/** A live queue with its application's shared intake and domain, as the releaser and the visitor path need it. */
export interface ActiveQueue extends Queue {
  application_rate: number | null;
  application_domain: string;
  application_origin_policy: OriginPolicy;
  /** Origins that may frame the waiting page (space-separated); null: the application's domain. */
  application_frame_ancestors: string | null;
}

export interface QueueRepository {
  create(queue: NewQueue, now: string): Promise<Queue>;
  /** Every live queue of every live application. */
  active(): Promise<ActiveQueue[]>;
  /** Live queues of live applications only. */
  findById(id: string): Promise<Queue | undefined>;
  /** The same, with what the visitor path needs of its application. */
  findActive(id: string): Promise<ActiveQueue | undefined>;
  list(filter: QueueFilter, page: PageRequest): Promise<Page<Queue>>;
  update(id: string, patch: QueuePatch, now: string): Promise<Queue | undefined>;
  softDelete(id: string, now: string): Promise<boolean>;
}
