import type { Role } from "./schema.js";

/**
 * The system of record, as the domain sees it. Two adapters implement it (SQLite embedded, PostgreSQL
 * production) over one Kysely query code base; one conformance suite runs against both.
 */
export type Dialect = "sqlite" | "postgres";
export type { Role };

export interface Page<T> {
  items: T[];
  total: number;
}

export interface PageRequest {
  limit: number;
  offset: number;
}

/** Which applications a caller may see: every one (admins) or an explicit list of grants. */
export type Visibility = "all" | readonly string[];

export interface User {
  id: string;
  email: string;
  role: Role;
  created_at: string;
  updated_at: string;
  disabled_at: string | null;
}

export interface UserWithSecret extends User {
  password_hash: string;
}

export interface Application {
  id: string;
  name: string;
  domain: string;
  callback_url: string;
  max_users_per_minute: number | null;
  api_key_prefix: string;
  created_at: string;
  updated_at: string;
}

export interface ApplicationWithSecret extends Application {
  webhook_secret_enc: string;
}

export interface Queue {
  id: string;
  application_id: string;
  name: string;
  max_users_per_minute: number;
  priority: number;
  created_at: string;
  updated_at: string;
}

export interface NewUser {
  email: string;
  password_hash: string;
  role: Role;
}

export interface UserPatch {
  role?: Role;
  password_hash?: string;
  disabled_at?: string | null;
}

export interface NewApplication {
  name: string;
  domain: string;
  callback_url: string;
  max_users_per_minute: number | null;
  api_key_hash: string;
  api_key_prefix: string;
  webhook_secret_enc: string;
}

export type ApplicationPatch = Partial<
  Pick<Application, "name" | "domain" | "callback_url" | "max_users_per_minute">
>;

export interface NewQueue {
  application_id: string;
  name: string;
  max_users_per_minute: number;
  priority: number;
}

export type QueuePatch = Partial<Pick<Queue, "name" | "max_users_per_minute" | "priority">>;

export interface UserRepository {
  create(user: NewUser, now: string): Promise<User>;
  findById(id: string): Promise<User | undefined>;
  findByEmail(email: string): Promise<UserWithSecret | undefined>;
  list(page: PageRequest): Promise<Page<User>>;
  update(id: string, patch: UserPatch, now: string): Promise<User | undefined>;
  delete(id: string): Promise<boolean>;
  grants(userId: string): Promise<string[]>;
  grant(userId: string, applicationId: string, now: string): Promise<void>;
  revoke(userId: string, applicationId: string): Promise<boolean>;
}

export interface ApplicationRepository {
  create(app: NewApplication, now: string): Promise<ApplicationWithSecret>;
  /** Live (not deleted) applications only. */
  findById(id: string): Promise<ApplicationWithSecret | undefined>;
  findByApiKeyHash(hash: string): Promise<ApplicationWithSecret | undefined>;
  list(visible: Visibility, page: PageRequest): Promise<Page<Application>>;
  update(id: string, patch: ApplicationPatch, now: string): Promise<Application | undefined>;
  rotateApiKey(id: string, hash: string, prefix: string, now: string): Promise<boolean>;
  /** Soft delete of the application and every queue in it, in one transaction. */
  softDelete(id: string, now: string): Promise<boolean>;
}

export interface QueueFilter {
  visible: Visibility;
  applicationId?: string;
}

export interface QueueRepository {
  create(queue: NewQueue, now: string): Promise<Queue>;
  /** Live queues of live applications only. */
  findById(id: string): Promise<Queue | undefined>;
  list(filter: QueueFilter, page: PageRequest): Promise<Page<Queue>>;
  update(id: string, patch: QueuePatch, now: string): Promise<Queue | undefined>;
  softDelete(id: string, now: string): Promise<boolean>;
}

export interface Store {
  readonly dialect: Dialect;
  readonly users: UserRepository;
  readonly applications: ApplicationRepository;
  readonly queues: QueueRepository;
  /** Applies pending migrations; returns the names applied. */
  migrate(): Promise<string[]>;
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
