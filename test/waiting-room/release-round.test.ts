import type { KyselyPlugin } from "kysely";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { iso } from "../../src/domain/time.js";
import { AdmissionKeys } from "../../src/services/admission-keys.js";
import { KyselyReleaseRepository } from "../../src/store/kysely/releases.js";
import { Releaser } from "../../src/worker/release/releaser.js";
import { createSite, currentAdapter, type Harness, join, startHarness } from "../helpers/harness.js";
import { joinMany } from "../helpers/releases.js";

/** The record's side of a release round: one transaction under the application's lock. */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe("a release round in the record", () => {
  it("takes few statements: lock, rate states, fronts, a pick per queue, the key, tickets, outbox, rate states", async () => {
    const site = await createSite(h, { max_users_per_minute: 60 });
    await joinMany(h, site.apiKey, site.queueId, "count", 20);
    let statements = 0;
    const counter: KyselyPlugin = {
      transformQuery: (args) => {
        statements++;
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    const releaser = new Releaser({
      releases: new KyselyReleaseRepository(h.store.db.withPlugin(counter), h.store.dialect),
      index: h.room.index,
      queues: h.room.queues,
      admission: h.room.admission,
      clock: h.clock,
      metrics: h.room.metrics,
      logger: pino({ level: "silent" }),
    });
    const round = async () => {
      statements = 0;
      await releaser.releaseDue();
      return statements;
    };
    expect(await round()).toBe(10); // the first: the application's lock row is created (insert, select again)
    h.clock.advance(5_000);
    expect(await round()).toBe(8); // five released
    h.clock.advance(10);
    expect(await round()).toBe(4); // visitors wait, none is due: no pick, no key, nothing released
  });

  it("a revocation waits for a round in progress, so no token is committed under a revoked key", async () => {
    const site = await createSite(h, { max_users_per_minute: 60 });
    await join(h, site.apiKey, site.queueId, "in-flight");
    const other = new AdmissionKeys(h.store.signingKeys, h.keys.atRest, h.clock, "anteroom-test");
    await other.init();
    let signedWith: string | undefined;
    let entered: () => void = () => {};
    const signing = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let leave: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      leave = resolve;
    });
    const release = h.store.releases.withApplicationLock(site.appId, async (round) => {
      const tickets = await round.oldestWaiting(site.queueId, 1);
      const key = await round.signingKey();
      signedWith = key?.kid;
      entered();
      await gate;
      await round.markReleased(
        tickets.map((ticket) => ({ id: ticket.id, access_token: `signed-by-${signedWith}` })),
        iso(h.clock.now()),
      );
      return tickets;
    });
    await Promise.race([signing, release]);
    let revoked = false;
    const revocation = other.rotate({ revoke: true }).then(() => {
      revoked = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(revoked).toBe(false);
    leave();
    expect(await release).toHaveLength(1);
    await revocation;
    const keys = await h.store.signingKeys.list();
    expect(keys.find((key) => key.kid === signedWith)?.revoked_at).not.toBeNull();
  });

  // SQLite has one connection, so a second round would queue behind the first instead of meeting its lock.
  it.runIf(currentAdapter() === "production")(
    "skips an application another worker is releasing, without waiting or running the round",
    async () => {
      const site = await createSite(h, { max_users_per_minute: 60 });
      // A first round creates the lock row; a second worker's create would wait for that commit.
      await h.store.releases.withApplicationLock(site.appId, async () => undefined);
      const inner = await h.store.releases.withApplicationLock(site.appId, () =>
        h.store.releases.withApplicationLock(site.appId, async () => "ran"),
      );
      expect(inner).toBeUndefined();
    },
  );
});
