import { describe, expect, it } from "vitest";
import { freshRateState, inWindow, type RateLimitState } from "../../src/domain/gcra.js";
import { planRelease, type QueueRateInput } from "../../src/domain/release-plan.js";
import { lcg, maxInWindow } from "../helpers/release-simulation.js";

describe("priority and shared intake", () => {
  const queue = (queueId: string, priority: number, waiting: number, tatMs = 0): QueueRateInput => ({
    queueId,
    perMinute: 60,
    priority,
    state: { ...freshRateState(), tatMs },
    waiting,
    waitingSince: waiting > 0 ? 1_000_000 : undefined,
  });
  const shared = (perMinute: number) => ({ perMinute, state: freshRateState() });

  it("serves the higher-priority queue first from a shared intake", () => {
    const plan = planRelease(shared(60), [queue("low", 1, 10), queue("high", 5, 10)], 1_000_000);
    expect(plan.counts.get("high")).toBe(1);
    expect(plan.counts.has("low")).toBe(false);
  });

  it("passes the intake down when the higher queue is empty or at its own rate", () => {
    const empty = planRelease(shared(120), [queue("low", 1, 10), queue("high", 5, 0)], 1_000_000);
    expect(empty.counts.get("low")).toBe(1);
    // The high queue just released (its own TAT is in the future): the shared slot goes to the low queue.
    const busy = planRelease(shared(120), [queue("low", 1, 10), queue("high", 5, 10, 1_000_500)], 1_000_000);
    expect(busy.counts.get("low")).toBe(1);
    expect(busy.counts.has("high")).toBe(false);
  });

  it("keeps each queue within its own rate and the application within its intake over time", () => {
    const states = new Map<string, RateLimitState>([
      ["a", freshRateState()],
      ["b", freshRateState()],
      ["c", freshRateState()],
    ]);
    let app = freshRateState();
    const released = new Map<string, number[]>();
    const random = lcg(3);
    for (let now = 1_000_000; now < 1_000_000 + 600_000; now += random() < 0.01 ? 3_000 : 100) {
      const input = (queueId: string, perMinute: number, priority: number): QueueRateInput => ({
        queueId,
        perMinute,
        priority,
        state: states.get(queueId) ?? freshRateState(),
        waiting: 1e6,
        waitingSince: 1_000_000,
      });
      const plan = planRelease(
        { perMinute: 100, state: app },
        [input("a", 60, 3), input("b", 30, 2), input("c", 600, 1)],
        now,
      );
      for (const [id, n] of plan.counts) {
        const list = released.get(id) ?? [];
        for (let i = 0; i < n; i++) list.push(now);
        released.set(id, list);
      }
      const settled = plan.settle(plan.counts);
      for (const [id, state] of settled.queues) states.set(id, state);
      app = settled.application ?? app;
    }
    const a = released.get("a") ?? [];
    const b = released.get("b") ?? [];
    const c = released.get("c") ?? [];
    expect(a.length).toBeGreaterThanOrEqual(594); // its own 60/min for 10 minutes, served first
    expect(a.length).toBeLessThanOrEqual(601);
    expect(b.length).toBeGreaterThanOrEqual(297); // 30/min fits in what is left
    expect(a.length + b.length + c.length).toBeGreaterThanOrEqual(990); // the whole intake is used...
    expect(a.length + b.length + c.length).toBeLessThanOrEqual(1001); // ...and never exceeded
    expect(maxInWindow(a, 60_000)).toBeLessThanOrEqual(61);
    expect(maxInWindow(b, 60_000)).toBeLessThanOrEqual(31);
    const all = [...a, ...b, ...c].sort((x, y) => x - y);
    expect(maxInWindow(all, 60_000)).toBeLessThanOrEqual(101);
  });
});

describe("settling a plan", () => {
  it("charges the rate and the shared intake only for visitors actually released", () => {
    const plan = planRelease(
      { perMinute: 60, state: freshRateState() },
      [
        {
          queueId: "q",
          perMinute: 60,
          priority: 0,
          state: freshRateState(),
          waiting: 5,
          waitingSince: 1_000_000,
        },
      ],
      1_000_000,
    );
    expect(plan.counts.get("q")).toBe(1);
    // The index said 5 were waiting, but the record had none left: nothing is charged or recorded.
    const none = plan.settle(new Map());
    expect(none.queues.get("q")).toMatchObject({ tatMs: 1_000_000, recent: [] });
    expect(none.application).toMatchObject({ tatMs: 1_000_000, recent: [] });
    const one = plan.settle(new Map([["q", 1]]));
    expect(one.queues.get("q")?.tatMs).toBe(1_001_000);
    expect(inWindow(one.queues.get("q")?.recent ?? [], 1_000_000 - 1)).toBe(1);
    expect(inWindow(one.queues.get("q")?.recent ?? [], 1_000_000)).toBe(0);
    expect(one.application?.tatMs).toBe(1_001_000);
  });
});
