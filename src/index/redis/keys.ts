/**
 * The Redis keyspace of the hot index. Every key of one queue carries the hash tag `{q:<queueId>}`, so a
 * queue's keys share one cluster slot and each Lua script touches a single slot. With the default prefix:
 *
 * | key                            | type   | contents                                                        |
 * |--------------------------------|--------|-----------------------------------------------------------------|
 * | `aq:{q:<id>}:waiting`          | ZSET   | waiting tickets: member = seq, score = seq (ZRANK is the rank)  |
 * | `aq:{q:<id>}:beats`            | ZSET   | waiting tickets: member = seq, score = last heartbeat, seconds  |
 * | `aq:{q:<id>}:released`         | HASH   | seq -> `releasedAt|seenAt|accessToken` (seenAt empty if unseen) |
 * | `aq:{q:<id>}:released_at`      | ZSET   | every released seq -> releasedAt ms (pruning)                   |
 * | `aq:{q:<id>}:unseen`           | ZSET   | released, not yet seen: seq -> releasedAt ms                    |
 * | `aq:{q:<id>}:cancelled`        | ZSET   | recently cancelled: seq -> when ms (late polls, pruning, cap)   |
 * | `aq:{q:<id>}:expired`          | ZSET   | recently expired: seq -> when ms                                |
 * | `aq:{q:<id>}:meta`             | HASH   | `configured`, `measured` (empty when unknown), `abandon`        |
 * | `aq:{q:<id>}:loaded`           | STRING | present once the queue was rebuilt since the index was emptied |
 *
 * Without `loaded` (Redis flushed, or a queue not yet built) a poll answers "unknown, rebuilding" for any
 * ticket not released or ended. `reset` deletes it (the worker then rebuilds the queue); `drop` keeps
 * it, so late polls of a deleted queue fall through to the record.
 *
 * Seqs are stored as decimal strings: up to 2^40 they are exact as scores (doubles) and as Lua numbers.
 * Heartbeats are whole seconds (as in the embedded index), so `abandoned` compares the same values in both.
 * A ticket is in at most one of waiting / released / (cancelled | expired), except that the index never
 * clears an ended entry when the ticket is later released (the embedded index does not either).
 * Nothing here expires by TTL: released and ended entries are pruned by the expiry worker (each kind after
 * its own retention), whole queues by drop/reset. The two ended sets together hold at most the index's cap
 * (ENDED_CAP_PER_QUEUE by default): ending more drops the oldest of both.
 */
export interface QueueKeys {
  waiting: string;
  beats: string;
  released: string;
  releasedAt: string;
  unseen: string;
  cancelled: string;
  expired: string;
  meta: string;
  loaded: string;
}

/** Builds every key of one queue under `prefix` (default "aq"). */
export function queueKeys(prefix: string, queueId: string): QueueKeys {
  const base = `${prefix}:{q:${queueId}}`;
  return {
    waiting: `${base}:waiting`,
    beats: `${base}:beats`,
    released: `${base}:released`,
    releasedAt: `${base}:released_at`,
    unseen: `${base}:unseen`,
    cancelled: `${base}:cancelled`,
    expired: `${base}:expired`,
    meta: `${base}:meta`,
    loaded: `${base}:loaded`,
  };
}

/** All of a queue's keys (one DEL for reset/drop: they share a slot, so it works in a cluster too). */
export function allQueueKeys(keys: QueueKeys): string[] {
  return Object.values(keys);
}

/** The fields of the `meta` hash. */
export const META_FIELDS = { configured: "configured", measured: "measured", abandon: "abandon" } as const;
