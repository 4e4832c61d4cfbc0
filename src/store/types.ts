import type { Visibility } from "../domain/model.js";

export type { Visibility };

import type { AlertRepository } from "./repositories/alerts.js";
import type { AnalyticsRepository } from "./repositories/analytics.js";
import type { ApplicationRepository } from "./repositories/applications.js";
import type { DashboardRepository } from "./repositories/dashboard.js";
import type { WorkerHeartbeatRepository } from "./repositories/heartbeats.js";
import type { OutboxRepository } from "./repositories/outbox.js";
import type { QueueRepository } from "./repositories/queues.js";
import type { ReleaseRepository } from "./repositories/releases.js";
import type { SigningKeyRepository } from "./repositories/signing-keys.js";
import type { TicketRepository } from "./repositories/tickets.js";
import type { UserRepository } from "./repositories/users.js";
import type {
  EndReason,
  OriginPolicy,
  QueueMode,
  Role,
  RollupLevel,
  RollupSpan,
  TicketStatus,
} from "./schema.js";

export type Dialect = "sqlite" | "postgres";
export type { EndReason, OriginPolicy, QueueMode, Role, RollupLevel, RollupSpan, TicketStatus };

export interface Page<T> {
  items: T[];
  total: number;
}

export interface PageRequest {
  limit: number;
  offset: number;
}

// The repositories' interfaces and row types live in repositories/, one file each; importers keep using
// this module.
export type * from "./repositories/alerts.js";
export type * from "./repositories/analytics.js";
export type * from "./repositories/applications.js";
export type * from "./repositories/dashboard.js";
export type * from "./repositories/heartbeats.js";
export type * from "./repositories/outbox.js";
export type * from "./repositories/queues.js";
export type * from "./repositories/releases.js";
export type * from "./repositories/signing-keys.js";
export type * from "./repositories/tickets.js";
export type * from "./repositories/users.js";

/**
 * The system of record, as the domain sees it. Two adapters implement it (SQLite embedded, PostgreSQL
 * production) over one Kysely query code base; one conformance suite (test/conformance/store) runs
 * against both.
 */
export interface Store {
  readonly dialect: Dialect;
  readonly users: UserRepository;
  readonly applications: ApplicationRepository;
  readonly queues: QueueRepository;
  readonly tickets: TicketRepository;
  readonly releases: ReleaseRepository;
  readonly outbox: OutboxRepository;
  readonly signingKeys: SigningKeyRepository;
  readonly heartbeats: WorkerHeartbeatRepository;
  readonly dashboard: DashboardRepository;
  readonly alerts: AlertRepository;
  readonly analytics: AnalyticsRepository;
  /** Applies pending migrations; returns the names applied. */
  migrate(): Promise<string[]>;
  /** Migrations not yet applied (production processes refuse to start on an outdated schema). */
  pendingMigrations(): Promise<string[]>;
  /** Throws when the record cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Raised by adapters when a unique constraint is violated, so the domain can answer 409. */
export class UniqueViolation extends Error {
  constructor(readonly constraint: string) {
    super(`unique constraint violated: ${constraint}`);
    this.name = "UniqueViolation";
  }
}
