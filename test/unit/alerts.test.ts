import { describe, expect, it } from "vitest";
import {
  type AlertStatus,
  type Condition,
  evaluateConditions,
  isStalled,
  type Observation,
  planTransitions,
  type QueueObservation,
  trackFailure,
} from "../../src/domain/alerts.js";
import { ManualClock } from "../../src/domain/clock.js";

const T0 = Date.UTC(2026, 0, 1);

function queue(overrides: Partial<QueueObservation> = {}): QueueObservation {
  return {
    queueId: "q1",
    applicationId: "a1",
    waiting: 0,
    threshold: null,
    paused: false,
    releaseIntervalMs: 1_000,
    lastReleaseAt: T0,
    waitingSince: null,
    ...overrides,
  };
}

function observe(
  at: number,
  queues: QueueObservation[],
  deadLetters: Observation["deadLetters"] = [],
): Observation {
  return { at, defaultThreshold: 100, queues, deadLetters };
}

describe("alert conditions", () => {
  it("a queue above the default threshold, or above its own", () => {
    expect(evaluateConditions(observe(T0, [queue({ waiting: 100 })]))).toEqual([]);
    expect(evaluateConditions(observe(T0, [queue({ waiting: 101 })]))).toEqual([
      { kind: "queue_length", subject: "q1", applicationId: "a1", details: { waiting: 101, threshold: 100 } },
    ]);
    expect(evaluateConditions(observe(T0, [queue({ waiting: 101, threshold: 500 })]))).toEqual([]);
    expect(evaluateConditions(observe(T0, [queue({ waiting: 11, threshold: 10 })]))[0]?.details).toEqual({
      waiting: 11,
      threshold: 10,
    });
  });

  it("dead letters since the last look, per application", () => {
    const conditions = evaluateConditions(
      observe(
        T0,
        [],
        [
          { applicationId: "a1", count: 2 },
          { applicationId: "a2", count: 0 },
        ],
      ),
    );
    expect(conditions).toEqual([
      { kind: "dead_letters", subject: "a1", applicationId: "a1", details: { count: 2 } },
    ]);
  });

  it("release stalled: visitors waiting and nothing released for three intervals", () => {
    const waiting = queue({ waiting: 5, waitingSince: T0 - 60_000, lastReleaseAt: T0 });
    expect(isStalled(waiting, T0 + 2_999)).toBe(false);
    expect(isStalled(waiting, T0 + 3_000)).toBe(true);
    expect(isStalled({ ...waiting, paused: true }, T0 + 10_000)).toBe(false);
    expect(isStalled({ ...waiting, waiting: 0, waitingSince: null }, T0 + 10_000)).toBe(false);
    // Visitors who just arrived at an idle queue are not a stall yet.
    expect(isStalled({ ...waiting, lastReleaseAt: null, waitingSince: T0 + 9_000 }, T0 + 10_000)).toBe(false);
    expect(isStalled({ ...waiting, lastReleaseAt: null, waitingSince: T0 }, T0 + 3_000)).toBe(true);
    const conditions = evaluateConditions(observe(T0 + 3_000, [waiting]));
    expect(conditions.map((c) => c.kind)).toEqual(["release_stalled"]);
  });
});

/** Runs the state machine the way the worker does, keeping the record in memory. */
class Machine {
  readonly alerts: AlertStatus[] = [];
  readonly sent: string[] = [];
  constructor(
    private readonly clock: ManualClock,
    private readonly cooldownMs: number,
  ) {}
  step(conditions: Condition[]): void {
    const latest = this.alerts;
    for (const t of planTransitions(latest, conditions, this.clock.now(), this.cooldownMs)) {
      if (t.type === "fire") {
        this.alerts.push({
          id: String(this.alerts.length + 1),
          kind: t.condition.kind,
          subject: t.condition.subject,
          state: "firing",
          firedAt: this.clock.now(),
          resolvedAt: null,
        });
        this.sent.push(`fire ${t.condition.kind}:${t.condition.subject}`);
      } else {
        t.alert.state = "resolved";
        t.alert.resolvedAt = this.clock.now();
        this.sent.push(`resolve ${t.alert.kind}:${t.alert.subject}`);
      }
    }
  }
}

const long: Condition = {
  kind: "queue_length",
  subject: "q1",
  applicationId: "a1",
  details: { waiting: 200 },
};

describe("alert state machine", () => {
  it("fires once while the condition holds, resolves once when it clears", () => {
    const clock = new ManualClock(T0);
    const machine = new Machine(clock, 900_000);
    for (let i = 0; i < 5; i++) {
      machine.step([long]);
      clock.advance(10_000);
    }
    for (let i = 0; i < 5; i++) {
      machine.step([]);
      clock.advance(10_000);
    }
    expect(machine.sent).toEqual(["fire queue_length:q1", "resolve queue_length:q1"]);
  });

  it("a flapping condition does not fire again within the cooldown", () => {
    const clock = new ManualClock(T0);
    const machine = new Machine(clock, 900_000);
    // On and off every 10 s for five minutes.
    for (let i = 0; i < 30; i++) {
      machine.step(i % 2 === 0 ? [long] : []);
      clock.advance(10_000);
    }
    expect(machine.sent).toEqual(["fire queue_length:q1", "resolve queue_length:q1"]);
    // Still holding once the cooldown since the resolution has passed: it fires again.
    clock.set(T0 + 10_000 + 900_000);
    machine.step([long]);
    expect(machine.sent).toEqual(["fire queue_length:q1", "resolve queue_length:q1", "fire queue_length:q1"]);
  });

  it("a cooldown of zero follows the condition", () => {
    const clock = new ManualClock(T0);
    const machine = new Machine(clock, 0);
    machine.step([long]);
    clock.advance(1);
    machine.step([]);
    clock.advance(1);
    machine.step([long]);
    expect(machine.sent).toEqual(["fire queue_length:q1", "resolve queue_length:q1", "fire queue_length:q1"]);
  });

  it("keys are independent, and a condition listed twice fires once", () => {
    const other: Condition = { ...long, subject: "q2" };
    const transitions = planTransitions([], [long, long, other], T0, 900_000);
    expect(transitions.map((t) => (t.type === "fire" ? t.condition.subject : t.alert.subject))).toEqual([
      "q1",
      "q2",
    ]);
  });
});

describe("system health: worker_down", () => {
  function workersAt(at: number, lastSeenAt: number): Condition[] {
    return evaluateConditions({ ...observe(at, []), workers: [{ workerId: "w1", lastSeenAt }] });
  }

  it("a worker silent for more than 60 s is down; one that beats again or is pruned is not", () => {
    const clock = new ManualClock(T0);
    const lastSeen = clock.now();
    clock.advance(60_000);
    expect(workersAt(clock.now(), lastSeen)).toEqual([]);
    clock.advance(1_000);
    const down = workersAt(clock.now(), lastSeen);
    expect(down).toEqual([
      {
        kind: "worker_down",
        subject: "w1",
        applicationId: null,
        details: { lastSeenAt: new Date(lastSeen).toISOString(), silentSeconds: 61 },
      },
    ]);
    // Fires once, then resolves when it beats again.
    const fire = planTransitions([], down, clock.now(), 900_000);
    expect(fire.map((t) => t.type)).toEqual(["fire"]);
    const firing: AlertStatus = {
      id: "x",
      kind: "worker_down",
      subject: "w1",
      state: "firing",
      firedAt: clock.now(),
      resolvedAt: null,
    };
    expect(
      planTransitions([firing], workersAt(clock.now() + 10_000, lastSeen), clock.now(), 900_000),
    ).toEqual([]);
    clock.advance(10_000);
    expect(planTransitions([firing], workersAt(clock.now(), clock.now()), clock.now(), 900_000)).toEqual([
      { type: "resolve", alert: firing },
    ]);
    // Pruned (no heartbeat row at all): resolves too.
    const pruned = evaluateConditions({ ...observe(clock.now(), []), workers: [] });
    expect(planTransitions([firing], pruned, clock.now(), 900_000)).toEqual([
      { type: "resolve", alert: firing },
    ]);
  });
});

describe("system health: record_down, index_down", () => {
  it("fires after 30 s of continuous failure; a success resets the tracking", () => {
    const clock = new ManualClock(T0);
    let since: number | null = null;
    const look = (healthy: boolean): Condition[] => {
      since = trackFailure(since, healthy, clock.now());
      return evaluateConditions({
        ...observe(clock.now(), []),
        components: [{ component: "index", failingSince: since }],
      });
    };
    expect(look(false)).toEqual([]);
    clock.advance(20_000);
    expect(look(false)).toEqual([]);
    clock.advance(5_000);
    expect(look(true)).toEqual([]); // a success: the 30 s start again
    clock.advance(5_000);
    expect(look(false)).toEqual([]);
    clock.advance(29_999);
    expect(look(false)).toEqual([]);
    clock.advance(1);
    expect(look(false)).toEqual([
      {
        kind: "index_down",
        subject: "index",
        applicationId: null,
        details: { failingSince: new Date(T0 + 30_000).toISOString(), failingSeconds: 30 },
      },
    ]);
    expect(look(true)).toEqual([]);
    const record = evaluateConditions({
      ...observe(T0 + 30_000, []),
      components: [{ component: "record", failingSince: T0 }],
    });
    expect(record.map((c) => [c.kind, c.subject])).toEqual([["record_down", "record"]]);
  });
});
