import { type Harness, type JoinBody, join } from "./harness.js";

/** Joins `count` visitors named `<prefix>-<i>`, 200 at a time. */
export async function joinMany(
  h: Harness,
  apiKey: string,
  queueId: string,
  prefix: string,
  count: number,
): Promise<JoinBody[]> {
  const joined: JoinBody[] = [];
  for (let start = 0; start < count; start += 200) {
    const batch = Array.from({ length: Math.min(200, count - start) }, (_, i) =>
      join(h, apiKey, queueId, `${prefix}-${start + i}`),
    );
    joined.push(...(await Promise.all(batch)));
  }
  return joined;
}

/** Every visitor ever released from a queue (expired since included), in release order. */
export async function releasedIn(h: Harness, queueId: string) {
  return h.store.db
    .selectFrom("tickets")
    .select(["visitor_id", "seq", "released_at"])
    .where("queue_id", "=", queueId)
    .where("status", "in", ["released", "expired"])
    .where("released_at", "is not", null)
    .orderBy("released_at")
    .orderBy("seq")
    .execute();
}
