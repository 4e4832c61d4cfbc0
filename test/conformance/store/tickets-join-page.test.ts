import { describe, expect, it } from "vitest";
import type { JoinOutcome, Ticket } from "../../../src/store/types.js";
import { dialects, useStore } from "./dialects.js";
import { at, site, ticket } from "./fixtures.js";

function ticketOf(outcome: JoinOutcome | undefined): Ticket {
  if (outcome === undefined || (outcome.kind !== "joined" && outcome.kind !== "existing"))
    throw new Error(`expected a ticket, got ${outcome?.kind}`);
  return outcome.ticket;
}

const HASH_A = "a".repeat(64);
const HASH_B = "b".repeat(64);

describe.each(dialects)("Store conformance, joinBatch from pages: $name", (dialect) => {
  const t = useStore(dialect);

  it("stores a new ticket's device hash and return address as returned; a server join has neither", async () => {
    const { queue } = await site(t.store);
    const outcomes = await t.store.tickets.joinBatch(
      [
        { queueId: queue.id, visitorId: "page", deviceHash: HASH_A, returnTo: "https://shop.example.com/x" },
        { queueId: queue.id, visitorId: "server" },
        { queueId: queue.id, visitorId: "page-no-return", deviceHash: HASH_B, returnTo: null },
      ],
      at(),
    );
    const [page, server, bare] = outcomes.map(ticketOf);
    expect(page).toMatchObject({ device_hash: HASH_A, return_to: "https://shop.example.com/x" });
    expect(server).toMatchObject({ device_hash: null, return_to: null });
    expect(bare).toMatchObject({ device_hash: HASH_B, return_to: null });
    for (const joined of [page, server, bare]) {
      expect(await ticket(t.store, queue.id, joined?.seq ?? 0)).toEqual(joined);
    }
  });

  it("returns an active ticket as it is, whatever device or address the repeat join brings", async () => {
    const { queue } = await site(t.store);
    const [first] = (
      await t.store.tickets.joinBatch(
        [{ queueId: queue.id, visitorId: "v", deviceHash: HASH_A, returnTo: "https://shop.example.com/1" }],
        at(1),
      )
    ).map(ticketOf);
    const again = await t.store.tickets.joinBatch(
      [{ queueId: queue.id, visitorId: "v", deviceHash: HASH_B, returnTo: "https://shop.example.com/2" }],
      at(2),
    );
    expect(again).toEqual([{ kind: "existing", ticket: first }]);
    expect(await ticket(t.store, queue.id, first?.seq ?? 0)).toEqual(first);
  });

  it("takes the first request's device and address for a visitor listed twice in one batch", async () => {
    const { queue } = await site(t.store);
    const outcomes = await t.store.tickets.joinBatch(
      [
        { queueId: queue.id, visitorId: "v", deviceHash: HASH_A, returnTo: "https://shop.example.com/a" },
        { queueId: queue.id, visitorId: "v", deviceHash: HASH_B, returnTo: "https://shop.example.com/b" },
      ],
      at(),
    );
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(["joined", "existing"]);
    for (const outcome of outcomes) {
      expect(ticketOf(outcome)).toMatchObject({
        device_hash: HASH_A,
        return_to: "https://shop.example.com/a",
      });
    }
  });
});
