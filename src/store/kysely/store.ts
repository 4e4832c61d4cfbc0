import { type Kysely, Migrator, sql } from "kysely";
import { migrationProvider } from "../migrations/index.js";
import type { Database } from "../schema.js";
import type { Dialect, Store, TicketRepository } from "../types.js";
import { KyselyAlertRepository } from "./alerts.js";
import { KyselyAnalyticsRepository } from "./analytics.js";
import { KyselyApplicationRepository } from "./applications.js";
import { KyselyDashboardRepository } from "./dashboard.js";
import { KyselyWorkerHeartbeatRepository } from "./heartbeats.js";
import { KyselyOutboxRepository } from "./outbox.js";
import { KyselyQueueRepository } from "./queues.js";
import { KyselyReleaseRepository } from "./releases.js";
import { KyselySigningKeyRepository } from "./signing-keys.js";
import { KyselyUserRepository } from "./users.js";

/** The record over Kysely; the dialect is chosen by whoever opens it (see ../sqlite.ts, ../postgres.ts). */
export class KyselyStore implements Store {
  readonly users: KyselyUserRepository;
  readonly applications: KyselyApplicationRepository;
  readonly queues: KyselyQueueRepository;
  readonly tickets: TicketRepository;
  readonly releases: KyselyReleaseRepository;
  readonly outbox: KyselyOutboxRepository;
  readonly signingKeys: KyselySigningKeyRepository;
  readonly heartbeats: KyselyWorkerHeartbeatRepository;
  readonly dashboard: KyselyDashboardRepository;
  readonly alerts: KyselyAlertRepository;
  readonly analytics: KyselyAnalyticsRepository;

  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
    /** The dialect's ticket repository (its join batch is dialect-specific). */
    tickets: TicketRepository,
    /** The PostgreSQL schema the store works in, when not the default one. */
    private readonly schema?: string,
  ) {
    this.users = new KyselyUserRepository(db);
    this.applications = new KyselyApplicationRepository(db);
    this.queues = new KyselyQueueRepository(db);
    this.tickets = tickets;
    this.releases = new KyselyReleaseRepository(db, dialect);
    this.outbox = new KyselyOutboxRepository(db, dialect);
    this.signingKeys = new KyselySigningKeyRepository(db);
    this.heartbeats = new KyselyWorkerHeartbeatRepository(db);
    this.dashboard = new KyselyDashboardRepository(db);
    this.alerts = new KyselyAlertRepository(db, dialect);
    this.analytics = new KyselyAnalyticsRepository(db, dialect);
  }

  private migrator(db: Kysely<Database> = this.db): Migrator {
    return new Migrator({
      db,
      provider: migrationProvider(this.dialect),
      migrationTableName: "anteroom_migrations",
      migrationLockTableName: "anteroom_migrations_lock",
      ...(this.schema === undefined ? {} : { migrationTableSchema: this.schema }),
    });
  }

  async pendingMigrations(): Promise<string[]> {
    const migrations = await this.migrator().getMigrations();
    return migrations
      .filter((migration) => migration.executedAt === undefined)
      .map((migration) => migration.name);
  }

  async migrate(): Promise<string[]> {
    const { error, results } =
      this.dialect === "postgres"
        ? // A migration may rewrite a large table: no statement timeout on its connection while it runs.
          await this.db.connection().execute(async (connection) => {
            await sql`set statement_timeout = 0`.execute(connection);
            try {
              return await this.migrator(connection).migrateToLatest();
            } finally {
              await sql`reset statement_timeout`.execute(connection);
            }
          })
        : await this.migrator().migrateToLatest();
    if (error !== undefined) {
      const failed = results?.find((result) => result.status === "Error")?.migrationName ?? "unknown";
      throw new Error(
        `migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`,
        {
          cause: error,
        },
      );
    }
    return (results ?? [])
      .filter((result) => result.status === "Success")
      .map((result) => result.migrationName);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
