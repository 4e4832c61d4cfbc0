import { expect, it } from "vitest";
import type { QueueMeta } from "../../src/index/types.js";
import { describeEachAdapter, SECOND, T0, TOKEN } from "./queue-index-adapters.js";

/** QueueIndex conformance, `ranks`: many polls of one queue in one call, each answered as `poll` answers. */
describeEachAdapter(({ index, queue, make }) => {
  const meta: QueueMeta = { configuredPerMinute: 60, measuredPerMinute: 42.5, abandonAfterSeconds: 90 };

  it("answers each seq as poll would, in the order asked, duplicates and unknown seqs included", async () => {
    const q = await queue();
    await index.setMeta(q, meta);
    await index.addWaiting(q, [1, 2, 3, 4, 5, 6], T0);
    await index.end(q, [2], "cancelled", T0);
    await index.end(q, [3], "expired", T0);
    await index.markReleased(q, [{ seq: 1, accessToken: TOKEN, releasedAt: T0 }], T0);
    const asked = [6, 1, 4, 2, 3, 99, 4];
    const answers = await index.ranks(q, asked, T0 + SECOND);
    expect(answers).toEqual([
      { state: "waiting", rank: 2, size: 3, meta },
      { state: "released", accessToken: TOKEN, releasedAt: T0, firstSeen: true, size: 3 },
      { state: "waiting", rank: 0, size: 3, meta },
      { state: "cancelled", size: 3 },
      { state: "expired", size: 3 },
      { state: "unknown", size: 3 },
      { state: "waiting", rank: 0, size: 3, meta },
    ]);
    // Each answer is a poll: the release was seen once, and only once.
    expect(await index.poll(q, 1, T0 + 2 * SECOND)).toMatchObject({ state: "released", firstSeen: false });
    const individually = await Promise.all(asked.map((seq) => index.poll(q, seq, T0 + 2 * SECOND)));
    expect(individually.filter((t) => t.state !== "released")).toEqual(
      answers.filter((t) => t.state !== "released"),
    );
  });

  it("records the heartbeat of every waiting ticket asked about, and of no other", async () => {
    const q = await queue();
    await index.addWaiting(q, [1, 2, 3, 4], T0);
    await index.ranks(q, [2, 4], T0 + 60 * SECOND);
    expect(await index.abandoned(q, T0 + 30 * SECOND, 10)).toEqual([1, 3]);
  });

  it("answers nothing for no seqs, and unknown for a queue it has never seen", async () => {
    const q = await queue();
    expect(await index.ranks(q, [], T0)).toEqual([]);
    expect(await index.ranks(q, [1, 2], T0)).toEqual([
      { state: "unknown", size: 0 },
      { state: "unknown", size: 0 },
    ]);
  });

  it("ranks thousands in one call, as many single polls would", async () => {
    const q = await queue();
    const seqs = Array.from({ length: 5000 }, (_, i) => i + 1);
    await index.addWaiting(q, seqs, T0);
    await index.end(
      q,
      seqs.filter((seq) => seq % 7 === 0),
      "cancelled",
      T0,
    );
    const answers = await index.ranks(q, seqs, T0);
    let waiting = 0;
    answers.forEach((answer, i) => {
      const seq = i + 1;
      if (seq % 7 === 0) expect(answer.state).toBe("cancelled");
      else expect(answer).toEqual({ state: "waiting", rank: waiting++, size: 5000 - 714, meta: undefined });
    });
  });

  it("answers unknown and rebuilding for a queue not loaded, yet keeps its visitors alive", async () => {
    const other = make();
    const q = await queue();
    await index.reset(q); // not loaded (Redis); the embedded index is always loaded
    await other.addWaiting(q, [1, 2], T0);
    const answers = await other.ranks(q, [1, 2], T0 + 60 * SECOND);
    const polled = await other.poll(q, 2, T0 + 60 * SECOND);
    if (polled.state === "unknown") {
      expect(polled.rebuilding).toBe(true);
      expect(answers).toEqual([polled, polled]);
    } else {
      expect(answers.map((a) => a.state)).toEqual(["waiting", "waiting"]);
    }
    expect(await other.abandoned(q, T0 + 30 * SECOND, 10)).toEqual([]);
    await other.close();
  });
});
