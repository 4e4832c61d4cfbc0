import type { RateState } from "../domain/release-plan.js";
import type {
  CallbackErrorsTable,
  CallbackOutboxTable,
  EndReason,
  QueueMode,
  Role,
  SigningKeysTable,
  TicketStatus,
  TicketsTable,
} from "./schema.js";

/**
 * The system of record, as the domain sees it. Two adapters implement it (SQLite embedded, PostgreSQL
 * production) over one Kysely query code base; one conformance suite runs against both.
 */
export type Dialect = "sqlite" | "postgres";
export type { EndReason, QueueMode, Role, TicketStatus };

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
  /** Admin tokens issued before this instant are no longer accepted (password changed). */
  sessions_valid_from: string | null;
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
  /** Joins a second; null means the deployment's default (RATE_LIMIT_JOINS_PER_SECOND). */
  max_joins_per_second: number | null;
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
  mode: QueueMode;
  release_ttl_seconds: number;
  abandon_after_seconds: number;
  admission_ttl_seconds: number;
  redirect_url: string | null;
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
  sessions_valid_from?: string;
}

export interface NewApplication {
  name: string;
  domain: string;
  callback_url: string;
  max_users_per_minute: number | null;
  max_joins_per_second: number | null;
  api_key_hash: string;
  api_key_prefix: string;
  webhook_secret_enc: string;
}

export type ApplicationPatch = Partial<
  Pick<Application, "name" | "domain" | "callback_url" | "max_users_per_minute" | "max_joins_per_second">
>;

export type NewQueue = Omit<Queue, "id" | "created_at" | "updated_at">;

export type QueuePatch = Partial<Omit<NewQueue, "application_id" | "mode">>;

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
  /** Replaces a live application's sealed webhook secret. */
  replaceWebhookSecret(id: string, sealed: string, now: string): Promise<boolean>;
  /** Every application's sealed webhook secret, deleted ones included (resealing after a key rotation). */
  sealedWebhookSecrets(): Promise<{ id: string; webhook_secret_enc: string }[]>;
  /** Swaps one sealed value for another sealing of the same secret, unless it changed meanwhile. */
  resealWebhookSecret(id: string, from: string, to: string): Promise<boolean>;
  /** Soft delete of the application and every queue in it, in one transaction. */
  softDelete(id: string, now: string): Promise<boolean>;
}

export interface QueueFilter {
  visible: Visibility;
  applicationId?: string;
}

/** A live queue with its application's shared intake, as the release engine needs it. */
export interface ActiveQueue extends Queue {
  application_rate: number | null;
  application_domain: string;
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

/** A ticket (visitor) as the record holds it. */
export type Ticket = TicketsTable;

export interface JoinRequest {
  queueId: string;
  visitorId: string;
}

export type JoinOutcome =
  | { kind: "joined" | "existing"; ticket: Ticket }
  /** The queue (or its application) was deleted: nothing was stored. */
  | { kind: "queue_gone" }
  /**
   * This request's part of the batch failed and nothing of it was stored; the other queues' parts of the
   * same batch may have been committed (their outcomes say so) and must be answered as such.
   */
  | { kind: "failed"; error: unknown };

export interface TicketRepository {
  /**
   * Joins many visitors with as few commits as the dialect allows (one commit, one fsync per batch in
   * SQLite; one statement per queue in PostgreSQL). Idempotent per (queue, visitor): a visitor with an
   * active (waiting or released) ticket gets that ticket back, never a second place. Throws when nothing
   * was stored; a part that failed while others were committed is reported as `failed` in its outcomes.
   */
  joinBatch(requests: readonly JoinRequest[], now: string): Promise<JoinOutcome[]>;
  findBySeq(queueId: string, seq: number): Promise<Ticket | undefined>;
  /** Waiting -> cancelled. The ticket as it is afterwards, and whether this call cancelled it. */
  cancel(
    queueId: string,
    seq: number,
    now: string,
  ): Promise<{ ticket: Ticket; cancelled: boolean } | undefined>;
  /** Waiting -> expired (abandoned); returns the seqs actually changed. */
  expireAbandoned(queueId: string, seqs: readonly number[], now: string): Promise<number[]>;
  /** Released and never seen -> expired (not_seen); returns the seqs actually changed. */
  expireUnseen(queueId: string, seqs: readonly number[], now: string): Promise<number[]>;
  /**
   * Ends released tickets whose admission is over (released before `releasedBefore`): they are no longer
   * active, so the visitor may queue again. Returns the seqs ended (at most `limit`).
   */
  endAdmissions(queueId: string, releasedBefore: string, now: string, limit: number): Promise<number[]>;
  /** Records the first time a released visitor was seen; false if it was not released or already seen. */
  markAdmitted(queueId: string, seq: number, now: string): Promise<boolean>;
  /** How many are waiting ahead of a ticket (fallback when the hot index cannot say). */
  countWaitingBefore(queueId: string, seq: number): Promise<number>;
  /** Waiting seqs greater than `afterSeq`, ascending (the reconciler compares them with the index). */
  waitingSeqs(queueId: string, afterSeq: number, limit: number): Promise<number[]>;
  /** Tickets by seq, for repairing index entries the record disagrees with. */
  findBySeqs(queueId: string, seqs: readonly number[]): Promise<Ticket[]>;
  /** Waiting and released tickets with seq > afterSeq, ascending: pages for rebuilding the hot index. */
  activePage(queueId: string, afterSeq: number, limit: number): Promise<Ticket[]>;
}

/** A callback to write to the outbox in a release round (see worker/callbacks/event.ts). */
export type OutboxDraft = Pick<
  CallbackOutboxTable,
  "id" | "application_id" | "queue_id" | "ticket_id" | "event" | "payload"
> & { status: "pending" | "simulated" };

/** A ticket a release round releases, with its admission token. */
export interface ReleasedTicket {
  id: string;
  access_token: string;
}

/**
 * What one release round reads and writes, all inside the transaction that holds the application's release
 * lock. Each call is one statement, and one given nothing to write runs none: a round runs every few
 * milliseconds per application, so its round trips are counted.
 */
export interface ReleaseRound {
  /** Stored rate states by subject (queue or application id); a subject never stored is absent. */
  rateStates(subjectIds: readonly string[]): Promise<Map<string, RateState>>;
  /** When each queue's oldest waiting visitor joined; queues with nobody waiting in the record are absent. */
  waitingSince(queueIds: readonly string[]): Promise<Map<string, number>>;
  /** A queue's oldest waiting tickets, at most `limit`, in line order (row-locked in PostgreSQL). */
  oldestWaiting(queueId: string, limit: number): Promise<Ticket[]>;
  /**
   * The key admission tokens are signed with: the newest not revoked. PostgreSQL holds it FOR SHARE until
   * commit, so a revocation waits for this round rather than revoking the key under tokens about to commit.
   */
  signingKey(): Promise<SigningKeyRow | undefined>;
  /** Waiting -> released at `now`, each ticket with its own admission token. */
  markReleased(tickets: readonly ReleasedTicket[], now: string): Promise<void>;
  /** New outbox entries, due at `now`. */
  addCallbacks(drafts: readonly OutboxDraft[], now: string): Promise<void>;
  /** Stores rate states by subject id. */
  saveRateStates(states: ReadonlyMap<string, RateState>): Promise<void>;
}

export interface ReleaseRepository {
  /**
   * Runs `round` in one transaction that first takes the application's release lock (its rate row), and
   * commits whatever it wrote together. When another worker holds the lock it does not wait: `round` is
   * not run and the answer is undefined.
   */
  withApplicationLock<T>(
    applicationId: string,
    round: (round: ReleaseRound) => Promise<T>,
  ): Promise<T | undefined>;
}

export type OutboxEntry = Omit<CallbackOutboxTable, "locked_until">;

export type CallbackError = CallbackErrorsTable;

/** How many entries one claim may take per application (see `OutboxRepository.claimDue`). */
export interface ClaimShare {
  /** At most this many in flight per application, counting those the caller already has. */
  perApplication: number;
  /** What the caller already has in flight, by application id; applications at the cap are skipped. */
  inFlight: ReadonlyMap<string, number>;
}

export interface OutboxRepository {
  /**
   * Claims up to `limit` due pending entries until `leaseUntil`, so no other worker sends them meanwhile.
   * With `share`, each application gets at most its free slots, its oldest entries first, and the limit is
   * shared out across applications (first entries of each before second ones), so one application's
   * backlog cannot fill a claim.
   */
  claimDue(now: string, leaseUntil: string, limit: number, share?: ClaimShare): Promise<OutboxEntry[]>;
  /**
   * The outcome of an attempt, recorded only while the caller still holds the lease it claimed with
   * (`lease`); false when the lease ran out and another worker took the entry over.
   */
  markDelivered(id: string, lease: string, attempts: number, status: number, now: string): Promise<boolean>;
  scheduleRetry(
    id: string,
    lease: string,
    attempts: number,
    nextAttemptAt: string,
    error: string,
    status: number | null,
  ): Promise<boolean>;
  /** After the last attempt: the entry becomes dead and a callback error (dead letter) is recorded, together. */
  markDead(
    entry: OutboxEntry,
    lease: string,
    attempts: number,
    url: string,
    error: string,
    status: number | null,
    now: string,
  ): Promise<boolean>;
  forQueue(queueId: string): Promise<OutboxEntry[]>;
  errors(filter: { applicationIds: Visibility; limit: number }): Promise<CallbackError[]>;
  /** Earliest next attempt among pending entries, to know when to look again. */
  nextDueAt(): Promise<string | undefined>;
}

export type SigningKeyRow = SigningKeysTable;

export interface SigningKeyRepository {
  list(): Promise<SigningKeyRow[]>;
  insert(row: SigningKeyRow): Promise<void>;
  /** Retires every key older than this one (still published for verification); with `revoke`, unpublishes them. */
  retireOlder(key: { kid: string; created_at: string }, now: string, revoke: boolean): Promise<void>;
  /** Swaps a key's sealed private half for another sealing of it, unless it changed meanwhile. */
  reseal(kid: string, from: string, to: string): Promise<boolean>;
}

export interface Store {
  readonly dialect: Dialect;
  readonly users: UserRepository;
  readonly applications: ApplicationRepository;
  readonly queues: QueueRepository;
  readonly tickets: TicketRepository;
  readonly releases: ReleaseRepository;
  readonly outbox: OutboxRepository;
  readonly signingKeys: SigningKeyRepository;
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
