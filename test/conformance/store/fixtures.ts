import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import type { KyselyStore } from "../../../src/store/kysely/store.js";
import type {
  Application,
  NewApplication,
  NewQueue,
  Queue,
  SigningKeyRow,
  Ticket,
} from "../../../src/store/types.js";

/**
 * Rows for the Store conformance suite. Instants are ISO strings as the services write them. State the
 * repository under test does not make itself (a released ticket, an outbox entry) is written directly,
 * so each file depends only on the repository it is about.
 */
export const T0 = Date.parse("2030-01-01T00:00:00.000Z");
export const at = (ms = 0): string => new Date(T0 + ms).toISOString();

export function newApplication(overrides: Partial<NewApplication> = {}): NewApplication {
  return {
    name: "Shop",
    domain: "shop.example.com",
    callback_url: "https://shop.example.com/callback",
    max_users_per_minute: null,
    max_joins_per_second: null,
    api_key_hash: `hash-${randomUUID()}`,
    api_key_prefix: "aq_live_abcd",
    webhook_secret_enc: `sealed-${randomUUID()}`,
    publishable_key: `pk_${randomUUID()}`,
    origin_policy: "domain",
    frame_ancestors: null,
    alert_emails: [],
    ...overrides,
  };
}

export function newQueue(applicationId: string, overrides: Partial<NewQueue> = {}): NewQueue {
  return {
    application_id: applicationId,
    name: "Main",
    max_users_per_minute: 60,
    priority: 0,
    mode: "live",
    release_ttl_seconds: 600,
    abandon_after_seconds: 300,
    admission_ttl_seconds: 3600,
    redirect_url: null,
    page: null,
    alert_threshold: null,
    ...overrides,
  };
}

/** An application with one queue. */
export async function site(
  store: KyselyStore,
  queue: Partial<NewQueue> = {},
  application: Partial<NewApplication> = {},
): Promise<{ app: Application; queue: Queue }> {
  const app = await store.applications.create(newApplication(application), at());
  return { app, queue: await store.queues.create(newQueue(app.id, queue), at()) };
}

/** Joins new visitors (in order) and returns their tickets. */
export async function joined(
  store: KyselyStore,
  queueId: string,
  visitors: readonly string[],
  now = at(),
): Promise<Ticket[]> {
  const outcomes = await store.tickets.joinBatch(
    visitors.map((visitorId) => ({ queueId, visitorId })),
    now,
  );
  return outcomes.map((outcome) => {
    if (outcome.kind !== "joined") throw new Error(`expected a new ticket, got ${outcome.kind}`);
    return outcome.ticket;
  });
}

/** Marks tickets released as a release round does (status, time, admission token). */
export async function markReleased(
  store: KyselyStore,
  queueId: string,
  seqs: readonly number[],
  releasedAt: string,
): Promise<void> {
  for (const seq of seqs) {
    await store.db
      .updateTable("tickets")
      .set({ status: "released", released_at: releasedAt, access_token: `token-${seq}` })
      .where("queue_id", "=", queueId)
      .where("seq", "=", seq)
      .execute();
  }
}

export async function ticket(store: KyselyStore, queueId: string, seq: number): Promise<Ticket> {
  const found = await store.tickets.findBySeq(queueId, seq);
  expect(found).toBeDefined();
  if (found === undefined) throw new Error(`no ticket ${seq}`);
  return found;
}

/** A pending callback for a ticket, due at `due`, as a release round writes it. */
export async function addCallback(
  store: KyselyStore,
  applicationId: string,
  of: Ticket,
  due: string,
): Promise<string> {
  const id = randomUUID();
  await store.db
    .insertInto("callback_outbox")
    .values({
      id,
      application_id: applicationId,
      queue_id: of.queue_id,
      ticket_id: of.id,
      event: "visitor.released",
      payload: JSON.stringify({ seq: of.seq }),
      status: "pending",
      attempts: 0,
      next_attempt_at: due,
      locked_until: null,
      last_error: null,
      last_status: null,
      created_at: due,
      delivered_at: null,
      duration_ms: null,
    })
    .execute();
  return id;
}

export function keyRow(kid: string, createdAt: string): SigningKeyRow {
  return {
    kid,
    alg: "EdDSA",
    public_jwk: JSON.stringify({ kid }),
    private_jwk_enc: `sealed-${kid}`,
    created_at: createdAt,
    retired_at: null,
    revoked_at: null,
  };
}
