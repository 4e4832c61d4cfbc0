import pino from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ManualClock } from "../../src/domain/clock.js";
import { WorkerLoop, type WorkerParts } from "../../src/worker/loop.js";

afterEach(() => {
  vi.useRealTimers();
});

/** Parts that count their rounds; the release round fails the first time. */
function parts(): { parts: WorkerParts; releases: number[] } {
  const releases: number[] = [];
  return {
    releases,
    parts: {
      queues: { refresh: async () => {} },
      releaser: {
        releaseDue: async () => {
          releases.push(Date.now());
          if (releases.length === 1) throw new Error("record unreachable");
          return undefined;
        },
      },
      expiry: { expire: async () => {} },
      dispatcher: { onSettled: () => {}, startDue: async () => [], drain: async () => {} },
    },
  };
}

describe("worker loop", () => {
  it("runs a failed task again after its interval, doubled for each failure in a row", async () => {
    vi.useFakeTimers();
    const { parts: driven, releases } = parts();
    const intervals = {
      releaseIdleMs: 40,
      releaseMinMs: 10,
      expiryMs: 1_000,
      callbacksMs: 1_000,
      refreshMs: 1_000,
    };
    const loop = new WorkerLoop(driven, new ManualClock(0), pino({ level: "silent" }), intervals);
    let extraRuns = 0;
    loop.addTask("extra", 300, async () => {
      extraRuns++;
      throw new Error("redis unreachable");
    });
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(releases).toHaveLength(1);
    expect(extraRuns).toBe(1);
    await vi.advanceTimersByTimeAsync(39);
    expect(releases).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(releases).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(259);
    expect(extraRuns).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(extraRuns).toBe(2);
    // Failing again: 600 ms, then 1200 ms; the release task, which succeeded since, keeps its pace.
    await vi.advanceTimersByTimeAsync(599);
    expect(extraRuns).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(extraRuns).toBe(3);
    await vi.advanceTimersByTimeAsync(1199);
    expect(extraRuns).toBe(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(extraRuns).toBe(4);
    expect(releases.length).toBeGreaterThan(40);
    await loop.stop();
  });
});
