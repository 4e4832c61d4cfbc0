import { describe, expect, it } from "vitest";
import { inWindow } from "../../src/domain/gcra.js";
import {
  planRelease,
  type QueueRateInput,
  type RateState,
  unreleasedState,
} from "../../src/domain/release-plan.js";
import { lcg, maxInWindow } from "../helpers/release-simulation.js";

describe("priority and shared intake", () => {
  const queue = (queueId: string, priority: number, waiting: number, tatMs = 0): QueueRateInput => ({
    queueId,
    perMinute: 60,
    priority,
    state: { ...unreleasedState(), tatMs },
    waiting,
    waitingSince: waiting > 0 ? 1_000_000 : undefined,
  });
  const shared = (perMinute: number) => ({ applicationId: "app", perMinute, state: unreleasedState() });

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
    const states = new Map<string, RateState>();
    const released = new Map<string, number[]>();
    const random = lcg(3);
    for (let now = 1_000_000; now < 1_000_000 + 600_000; now += random() < 0.01 ? 3_000 : 100) {
      const input = (queueId: string, perMinute: number, priority: number): QueueRateInput => ({
        queueId,
        perMinute,
        priority,
        state: states.get(queueId) ?? unreleasedState(),
        waiting: 1e6,
        waitingSince: 1_000_000,
      });
      const plan = planRelease(
        { applicationId: "app", perMinute: 100, state: states.get("app") ?? unreleasedState() },
        [input("a", 60, 3), input("b", 30, 2), input("c", 600, 1)],
        now,
      );
      for (const [id, n] of plan.counts) {
        const list = released.get(id) ?? [];
        for (let i = 0; i < n; i++) list.push(now);
        released.set(id, list);
      }
      for (const [id, state] of plan.settle(plan.counts)) states.set(id, state);
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
  const NOW = 1_000_000;
  const plan = (options: { shared: number | null; waiting?: number; queue?: RateState; app?: RateState }) =>
    planRelease(
      { applicationId: "app", perMinute: options.shared, state: options.app ?? unreleasedState() },
      [
        {
          queueId: "q",
          perMinute: 60,
          priority: 0,
          state: options.queue ?? unreleasedState(),
          waiting: options.waiting ?? 5,
          waitingSince: NOW,
        },
      ],
      NOW,
    );

  it("charges the rate and the shared intake only for visitors actually released", () => {
    const planned = plan({ shared: 60 });
    expect(planned.counts.get("q")).toBe(1);
    // The index said 5 were waiting, but the record had none left: nothing is charged or recorded.
    const none = planned.settle(new Map());
    expect(none.get("q")).toMatchObject({ tatMs: NOW, recent: [] });
    expect(none.get("app")).toMatchObject({ tatMs: NOW, recent: [] });
    const one = planned.settle(new Map([["q", 1]]));
    expect(one.get("q")?.tatMs).toBe(NOW + 1_000);
    expect(inWindow(one.get("q")?.recent ?? [], NOW - 1)).toBe(1);
    expect(inWindow(one.get("q")?.recent ?? [], NOW)).toBe(0);
    expect(one.get("app")?.tatMs).toBe(NOW + 1_000);
  });

  it("gives the application a state to store only when it has a shared intake", () => {
    const settled = plan({ shared: null }).settle(new Map([["q", 1]]));
    expect([...settled.keys()]).toEqual(["q"]);
  });

  it("meters each queue's releases, and counts the time since its last look as busy only while visitors waited", () => {
    const looked = { ...unreleasedState(), meter: { released: 0, busyMs: 0, at: NOW - 1_000 } };
    const busy = plan({ shared: null, queue: looked }).settle(new Map([["q", 1]]));
    expect(busy.get("q")?.meter).toEqual({ released: 1, busyMs: 1_000, at: NOW });
    const idle = plan({ shared: null, queue: looked, waiting: 0 }).settle(new Map());
    expect(idle.get("q")?.meter).toMatchObject({ busyMs: 0, released: 0, at: NOW });
    // A gap of minutes between looks: the application sat idle, whoever waits now.
    const away = { ...unreleasedState(), meter: { released: 0, busyMs: 0, at: NOW - 300_000 } };
    expect(plan({ shared: null, queue: away }).settle(new Map()).get("q")?.meter.busyMs).toBe(0);
  });

  it("keeps the application's meter as stored", () => {
    const app = { ...unreleasedState(), meter: { released: 7, busyMs: 9_000, at: NOW - 500 } };
    const settled = plan({ shared: 60, app }).settle(new Map([["q", 1]]));
    expect(settled.get("app")?.meter).toEqual(app.meter);
  });
});
