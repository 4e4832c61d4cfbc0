import { describe, expect, it } from "vitest";
import type { OutboxEntry } from "../../../src/store/types.js";
import { dialects, useStore } from "./dialects.js";
import { addCallback, at, joined, site } from "./fixtures.js";

describe.each(dialects)("Store conformance, outbox claim fairness: $name", (dialect) => {
  const t = useStore(dialect);

  /** An application with callbacks due at the given times; its entry ids in due order. */
  async function application(due: readonly number[]): Promise<{ id: string; entries: string[] }> {
    const { app, queue } = await site(t.store);
    const tickets = await joined(
      t.store,
      queue.id,
      due.map((_, i) => `v${i}`),
    );
    const entries: string[] = [];
    for (const [i, ticket] of tickets.entries())
      entries.push(await addCallback(t.store, app.id, ticket, at(due[i])));
    return { id: app.id, entries };
  }

  const claim = (limit: number, perApplication?: number, inFlight: [string, number][] = []) =>
    t.store.outbox.claimDue(
      at(1000),
      at(60_000),
      limit,
      perApplication === undefined ? undefined : { perApplication, inFlight: new Map(inFlight) },
    );
  const ids = (entries: readonly OutboxEntry[]) => new Set(entries.map((entry) => entry.id));

  it("gives each application at most its share, its oldest entries first", async () => {
    const busy = await application([50, 10, 40, 20, 30]);
    const quiet = await application([60, 70]);
    const claimed = await claim(100, 3);
    const [b10, b20, b30] = [busy.entries[1], busy.entries[3], busy.entries[4]];
    expect(ids(claimed)).toEqual(new Set([b10, b20, b30, ...quiet.entries]));
  });

  it("shares the limit out: every application's first entries before anyone's second", async () => {
    // The backlog is older, yet the newcomer still gets its turn.
    const backlog = await application([1, 2, 3, 4, 5, 6]);
    const newcomer = await application([500, 600]);
    const claimed = await claim(4, 10);
    expect(ids(claimed)).toEqual(
      new Set([backlog.entries[0], backlog.entries[1], newcomer.entries[0], newcomer.entries[1]]),
    );
    // Without a share the limit is spread the same way.
    const next = await claim(3);
    expect(ids(next)).toEqual(new Set([backlog.entries[2], backlog.entries[3], backlog.entries[4]]));
  });

  it("counts what the caller already has in flight, and skips an application at its cap", async () => {
    const partly = await application([1, 2, 3, 4]);
    const full = await application([5, 6]);
    const idle = await application([7, 8, 9, 10]);
    const claimed = await claim(100, 3, [
      [partly.id, 2],
      [full.id, 3],
      [idle.id, 0],
      ["00000000-0000-4000-8000-000000000000", 1],
    ]);
    expect(ids(claimed)).toEqual(new Set([partly.entries[0], ...idle.entries.slice(0, 3)]));
  });

  it("skips an application over its cap, and takes only due, unleased entries into the shares", async () => {
    const over = await application([1, 2]);
    const other = await application([3, 4, 5000]);
    // One of `other`'s entries is leased elsewhere: the share counts only what can be claimed.
    await t.store.db
      .updateTable("callback_outbox")
      .set({ locked_until: at(30_000) })
      .where("id", "=", other.entries[0] ?? "")
      .execute();
    const claimed = await claim(100, 2, [[over.id, 5]]);
    expect(ids(claimed)).toEqual(new Set([other.entries[1]]));
  });
});
