import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdmissionKeys } from "../../src/services/admission-keys.js";
import { releasedCallback } from "../../src/worker/callbacks/event.js";
import { createSite, type Harness, join, startHarness } from "../helpers/harness.js";

/** The record's side of a release round: one transaction under the application's lock. */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe("a release round in the record", () => {
  it("a revocation waits for a release in progress, so no token is committed under a revoked key", async () => {
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
    const release = h.store.releases.releaseApplication({
      applicationId: site.appId,
      queueIds: [site.queueId],
      now: h.clock.now(),
      plan: () => ({ counts: new Map([[site.queueId, 1]]), states: () => new Map() }),
      admit: async (ticket, key) => {
        signedWith = key.kid;
        entered();
        await gate;
        const accessToken = `signed-by-${key.kid}`;
        const queue = { application_id: site.appId, mode: "simulation" as const };
        return { accessToken, outbox: releasedCallback(queue, ticket, accessToken, h.clock.now()) };
      },
    });
    await Promise.race([signing, release]);
    let revoked = false;
    const revocation = other.rotate({ revoke: true }).then(() => {
      revoked = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(revoked).toBe(false);
    leave();
    expect((await release)?.released).toHaveLength(1);
    await revocation;
    const keys = await h.store.signingKeys.list();
    expect(keys.find((key) => key.kid === signedWith)?.revoked_at).not.toBeNull();
  });
});
