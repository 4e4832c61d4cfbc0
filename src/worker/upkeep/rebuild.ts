import type { QueueIndex } from "../../index/types.js";
import type { Store } from "../../store/types.js";
import { releasedEntry } from "./settle.js";

const PAGE = 10_000;

/**
 * Refills one queue of the hot index from the record: every waiting ticket (heartbeat now, so nobody is
 * abandoned for the time the index was away) and every released one with its admission token.
 * Returns how many tickets were loaded.
 */
export async function rebuildQueue(
  store: Store,
  index: QueueIndex,
  queueId: string,
  now: number,
): Promise<number> {
  let after = 0;
  let loaded = 0;
  for (;;) {
    const page = await store.tickets.activePage(queueId, after, PAGE);
    const last = page.at(-1);
    if (last === undefined) break;
    const waiting = page.filter((ticket) => ticket.status === "waiting").map((ticket) => ticket.seq);
    if (waiting.length > 0) await index.addWaiting(queueId, waiting, now);
    const released = page.filter((ticket) => ticket.status === "released");
    if (released.length > 0) {
      await index.markReleased(
        queueId,
        released.map((ticket) => releasedEntry(ticket, now)),
        now,
      );
    }
    loaded += page.length;
    after = last.seq;
  }
  await index.markLoaded(queueId);
  return loaded;
}
