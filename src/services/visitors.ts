import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { Clock } from "../domain/clock.js";
import { errors } from "../domain/errors.js";
import { checkedReturnTo } from "../domain/origins.js";
import { iso } from "../domain/time.js";
import {
  endedStatus,
  redirectFor,
  releasedStatus,
  statusFromIndex,
  type VisitorStatus,
  waitingStatus,
} from "../domain/visitor-status.js";
import type { VisitorTicketRef, VisitorTokens } from "../domain/visitor-token.js";
import type { QueueActivity } from "../index/activity.js";
import type { IndexedTicket, QueueIndex } from "../index/types.js";
import type { Metrics } from "../observability/metrics.js";
import type { ActiveQueue, Store, Ticket } from "../store/types.js";
import type { AdmissionKeys } from "./admission-keys.js";
import type { KeyApplication, PublicApplication, VisitorDirectory } from "./directory.js";
import type { JoinBatcher } from "./join-batcher.js";

export interface JoinResponse extends VisitorStatus {
  token: string;
}

export interface JoinOptions {
  /**
   * The browser's device secret, for a join from a page (publishable key): the ticket keeps its hash, and
   * the visitor's place is refused to any other browser.
   */
  device?: string;
  /** Where to send the visitor when released: an absolute URL on the application's origins. */
  returnTo?: string;
}

export interface AdmissionCheck {
  valid: true;
  queue_id: string;
  visitor_id: string;
  expires_at: string;
  first_seen: boolean;
}

const INDEX_RETRY_SECONDS = 2;

/** The device secret as the record keeps it: SHA-256 hex, so a leaked record does not hand out places. */
export function deviceHashOf(device: string): string {
  return createHash("sha256").update(device, "utf8").digest("hex");
}

export interface VisitorDeps {
  store: Store;
  index: QueueIndex;
  tokens: VisitorTokens;
  admission: AdmissionKeys;
  directory: VisitorDirectory;
  batcher: JoinBatcher;
  clock: Clock;
  metrics: Metrics;
  logger?: Logger;
  /** Told of this process's joins and cancels (live updates listen). */
  activity?: QueueActivity;
}

/**
 * The visitor hot path: join, status, cancel, and the site's admission check. A status poll verifies the
 * token's MAC (no storage), then asks the hot index for rank and heartbeat in one call. Callers
 * authenticate first (`application` for an API key, `verifyToken` for a visitor token), before the request
 * body is even read, so an unauthenticated request is a 401 whatever it carries.
 */
export class VisitorService {
  constructor(private readonly deps: VisitorDeps) {}

  private async liveQueue(queueId: string): Promise<ActiveQueue> {
    const queue = await this.deps.directory.queue(queueId);
    if (queue === null) throw errors.notFound("queue");
    return queue;
  }

  /**
   * The application an API key belongs to, or null for an unknown key. `beforeRead` runs before a key
   * not in the cache costs a record read (it may throw to refuse that).
   */
  application(apiKey: string, beforeRead?: () => void): Promise<KeyApplication | null> {
    return this.deps.directory.applicationForKey(apiKey, beforeRead);
  }

  /** A live application's id and publishable key (for pages that know only the id), or null. */
  publicApplication(id: string, beforeRead?: () => void): Promise<PublicApplication | null> {
    return this.deps.directory.publicApplication(id, beforeRead);
  }

  /** The ticket a visitor token names; a missing, malformed or forged token is a 401. */
  verifyToken(token: unknown): VisitorTicketRef {
    const ref = this.deps.tokens.verify(token);
    if (ref === undefined) throw errors.invalidToken();
    return ref;
  }

  async join(
    applicationId: string,
    queueId: string,
    visitorId: string,
    options: JoinOptions = {},
  ): Promise<JoinResponse> {
    const queue = await this.deps.directory.queue(queueId);
    if (queue === null || queue.application_id !== applicationId) throw errors.notFound("queue");
    let returnTo: string | null = null;
    if (options.returnTo !== undefined) {
      // Only the application's own origins: the waiting room must never become an open redirect.
      returnTo =
        checkedReturnTo(options.returnTo, queue.application_domain, queue.application_origin_policy) ?? null;
      if (returnTo === null) {
        throw errors.validation("return_to", "must be an absolute https URL on the application's domain");
      }
    }
    const deviceHash = options.device === undefined ? null : deviceHashOf(options.device);
    const request = { queueId, visitorId, deviceHash, returnTo };
    let outcome = await this.deps.batcher.join(request);
    // The site's server is trusted with its visitor ids; a page is not (anyone can send any id with the
    // public key). A place a page took under this id is never the server's: it ends, and the server's
    // visitor gets a place of their own, so whoever squatted the id holds a cancelled token.
    if (deviceHash === null && outcome.kind !== "queue_gone" && outcome.ticket.device_hash !== null) {
      const ended = await this.endTicket(queue, queueId, outcome.ticket.seq);
      if (ended.ticket.status === "released") {
        throw errors.conflict("this visitor id was admitted from a browser; use another visitor id");
      }
      outcome = await this.deps.batcher.join(request);
      if (outcome.kind !== "queue_gone" && outcome.ticket.device_hash !== null) {
        throw errors.conflict("this visitor id is in line from a browser; retry");
      }
    }
    if (outcome.kind === "queue_gone") {
      this.deps.directory.queueChanged(queueId);
      throw errors.notFound("queue");
    }
    // The visitor id comes from the page, so anyone may send it: a place taken from one browser (or by
    // the site's server) is never handed to another. The site's server itself is trusted (no device).
    if (deviceHash !== null && outcome.ticket.device_hash !== deviceHash) {
      throw errors.conflict("this visitor is already in line from another browser");
    }
    if (outcome.kind === "joined") {
      this.deps.metrics.joined.inc(this.deps.metrics.labels(queue.id, queue.mode));
      this.deps.activity?.notify(queueId);
    }
    const ref = { queueId, seq: outcome.ticket.seq };
    let status: VisitorStatus;
    try {
      status = await this.describe(
        ref,
        queue,
        await this.deps.index.poll(queueId, ref.seq, this.deps.clock.now()),
      );
    } catch (error) {
      // The join is committed; without the hot index its place comes from the record.
      this.deps.logger?.warn(
        { err: error, queueId },
        "hot index unavailable; answering the join from the record",
      );
      status = await this.fromRecord(outcome.ticket, queue, 0);
    }
    return { token: this.deps.tokens.issue(ref), ...status };
  }

  /** The hot index's answer, or a 503 when it cannot be reached. */
  private async poll(ref: VisitorTicketRef): Promise<IndexedTicket> {
    try {
      return await this.deps.index.poll(ref.queueId, ref.seq, this.deps.clock.now());
    } catch {
      throw errors.unavailable("the waiting room index is unavailable; retry shortly", INDEX_RETRY_SECONDS);
    }
  }

  /**
   * A poll answered without a promise when the index is in this process and the visitor is waiting (the
   * common case); otherwise a promise that carries on from the same index answer. The index answers once per
   * poll: it records the heartbeat and, for a released visitor, the first sighting, which only this poll
   * may turn into the recorded admission. Throws at once for a bad token.
   */
  statusFast(token: unknown): VisitorStatus | Promise<VisitorStatus> {
    const pollNow = this.deps.index.pollNow;
    if (pollNow === undefined) return this.status(this.verifyToken(token));
    const ref = this.verifyToken(token);
    const indexed = pollNow.call(this.deps.index, ref.queueId, ref.seq, this.deps.clock.now());
    return statusFromIndex(indexed) ?? this.answer(ref, indexed);
  }

  async status(ref: VisitorTicketRef): Promise<VisitorStatus> {
    const indexed = await this.poll(ref);
    return statusFromIndex(indexed) ?? this.answer(ref, indexed);
  }

  /**
   * The status for an answer the index already gave (a bulk `ranks` call of the live-updates hub): what a
   * poll that got this answer returns, without asking the index again. A first sighting of a release is
   * recorded by a task put in `admissions` instead of before answering: the hub sends a batch's releases
   * first, then runs them.
   */
  statusOf(
    ref: VisitorTicketRef,
    indexed: IndexedTicket,
    admissions?: (() => Promise<unknown>)[],
  ): VisitorStatus | Promise<VisitorStatus> {
    return statusFromIndex(indexed) ?? this.answer(ref, indexed, admissions);
  }

  private async answer(
    ref: VisitorTicketRef,
    indexed: IndexedTicket,
    admissions?: (() => Promise<unknown>)[],
  ): Promise<VisitorStatus> {
    if (indexed.state === "unknown" && indexed.rebuilding === true) {
      await this.liveQueue(ref.queueId); // a deleted queue is never rebuilt: 404, not "retry"
      throw errors.unavailable(
        "this queue's positions are being rebuilt; retry shortly",
        INDEX_RETRY_SECONDS,
      );
    }
    return this.describe(ref, await this.liveQueue(ref.queueId), indexed, admissions);
  }

  async cancel(ref: VisitorTicketRef): Promise<VisitorStatus> {
    const queue = await this.liveQueue(ref.queueId);
    const result = await this.endTicket(queue, ref.queueId, ref.seq);
    const size = await this.deps.index.waitingCount(ref.queueId).catch(() => 0);
    return this.fromRecord(result.ticket, queue, size);
  }

  /** Cancels a waiting ticket in the record, then in the hot index; a ticket already past waiting stays. */
  private async endTicket(
    queue: ActiveQueue,
    queueId: string,
    seq: number,
  ): Promise<{ cancelled: boolean; ticket: Ticket }> {
    const now = this.deps.clock.now();
    const result = await this.deps.store.tickets.cancel(queueId, seq, iso(now));
    if (result === undefined) throw errors.notFound("ticket");
    if (result.cancelled) {
      this.deps.metrics.cancelled.inc(this.deps.metrics.labels(queue.id, queue.mode));
      await this.deps.index.end(queueId, [seq], "cancelled", now).catch((error: unknown) => {
        // The record has it; the reconciler takes it out of the index.
        this.deps.logger?.warn({ err: error, queueId }, "cancelled, but the hot index missed it");
      });
      this.deps.activity?.notify(queueId);
    }
    return result;
  }

  /** The site's check of an admission token; a valid one also counts as the visitor being seen. */
  async checkAdmission(applicationId: string, accessToken: string): Promise<AdmissionCheck> {
    let verified: Awaited<ReturnType<AdmissionKeys["verify"]>>;
    try {
      verified = await this.deps.admission.verify(accessToken);
    } catch {
      throw errors.invalidToken("the admission token is expired, forged or not valid");
    }
    const queue = await this.deps.directory.queue(verified.queueId);
    if (queue === null || queue.application_id !== applicationId) {
      throw errors.invalidToken("the admission token is for another application");
    }
    // The signature proves it was issued; the record says whether it still stands (an expired release
    // or an ended admission is refused even while the JWT itself has not run out).
    const ticket = await this.deps.store.tickets.findBySeq(verified.queueId, verified.seq);
    if (ticket === undefined || ticket.status !== "released" || ticket.visitor_id !== verified.visitorId) {
      throw errors.invalidToken("this admission is no longer valid");
    }
    const now = this.deps.clock.now();
    const firstSeen = await this.deps.index.markSeen(verified.queueId, verified.seq, now).catch(() => false);
    const recorded = await this.deps.store.tickets.markAdmitted(verified.queueId, verified.seq, iso(now));
    return {
      valid: true,
      queue_id: verified.queueId,
      visitor_id: verified.visitorId,
      expires_at: iso((verified.payload.exp ?? 0) * 1000),
      first_seen: firstSeen || recorded,
    };
  }

  private async describe(
    ref: VisitorTicketRef,
    queue: ActiveQueue,
    indexed: IndexedTicket,
    admissions?: (() => Promise<unknown>)[],
  ): Promise<VisitorStatus> {
    switch (indexed.state) {
      case "waiting":
        return waitingStatus(indexed.rank, indexed.size, indexed.meta, queue);
      case "released": {
        const admit = () =>
          this.deps.store.tickets.markAdmitted(ref.queueId, ref.seq, iso(this.deps.clock.now()));
        if (indexed.firstSeen && admissions !== undefined) admissions.push(admit);
        const [returnTo] = await Promise.all([
          this.deps.directory.returnTo(ref.queueId, ref.seq),
          indexed.firstSeen && admissions === undefined ? admit() : undefined,
        ]);
        return releasedStatus(
          indexed.accessToken,
          redirectFor(queue.redirect_url, queue.application_domain, indexed.accessToken, returnTo),
          indexed.size,
        );
      }
      case "cancelled":
      case "expired":
        return endedStatus(indexed.state, indexed.size);
      case "unknown": {
        const ticket = await this.deps.store.tickets.findBySeq(ref.queueId, ref.seq);
        if (ticket === undefined) throw errors.notFound("ticket");
        return this.fromRecord(ticket, queue, indexed.size);
      }
    }
  }

  /** Status straight from the record: rare (evicted or rebuilding index), so a count query is acceptable. */
  private async fromRecord(ticket: Ticket, queue: ActiveQueue, size: number): Promise<VisitorStatus> {
    switch (ticket.status) {
      case "waiting": {
        const ahead = await this.deps.store.tickets.countWaitingBefore(ticket.queue_id, ticket.seq);
        return waitingStatus(ahead, Math.max(size, ahead + 1), undefined, queue);
      }
      case "released": {
        const token = ticket.access_token ?? "";
        const redirect = redirectFor(queue.redirect_url, queue.application_domain, token, ticket.return_to);
        return releasedStatus(token, redirect, size);
      }
      default:
        return endedStatus(ticket.status, size);
    }
  }
}
