import type { Generated } from "kysely";

/**
 * The record's tables as Kysely sees them. Portable across SQLite and PostgreSQL: ids are UUID strings,
 * times are UTC instants carried as ISO-8601 strings (timestamptz in PostgreSQL, text in SQLite), and
 * there are no booleans (a nullable instant says when something became true).
 */
export type Role = "admin" | "operator" | "viewer";

export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  role: Role;
  created_at: string;
  updated_at: string;
  disabled_at: string | null;
}

export interface UserGrantsTable {
  user_id: string;
  application_id: string;
  created_at: string;
}

export interface ApplicationsTable {
  id: string;
  name: string;
  domain: string;
  callback_url: string;
  api_key_hash: string;
  api_key_prefix: string;
  webhook_secret_enc: string;
  /** Shared intake for all the application's queues; null means each queue only has its own rate. */
  max_users_per_minute: number | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface QueuesTable {
  id: string;
  application_id: string;
  name: string;
  max_users_per_minute: number;
  priority: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface MigrationsMarker {
  id: Generated<number>;
}

export interface Database {
  users: UsersTable;
  user_grants: UserGrantsTable;
  applications: ApplicationsTable;
  queues: QueuesTable;
}
