import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type EndedState, EndedTickets } from "../../src/index/memory/ended-tickets.js";

/** The obvious model: entries in the order they ended, times raised to stay non-decreasing. */
class Model {
  entries: { seq: number; at: number }[] = [];
  states = new Map<number, EndedState>();

  constructor(private readonly cap: number) {}

  add(seq: number, state: EndedState, at: number): void {
    if (this.states.has(seq)) {
      this.states.set(seq, state);
      return;
    }
    if (this.entries.length === this.cap) this.drop();
    const newest = this.entries.at(-1)?.at ?? Number.NEGATIVE_INFINITY;
    this.entries.push({ seq, at: Math.max(at, newest) });
    this.states.set(seq, state);
  }

  prune(cutoff: number): number {
    let removed = 0;
    while ((this.entries[0]?.at ?? Number.POSITIVE_INFINITY) < cutoff) {
      this.drop();
      removed++;
    }
    return removed;
  }

  private drop(): void {
    const oldest = this.entries.shift();
    if (oldest !== undefined) this.states.delete(oldest.seq);
  }
}

const TOP = 2 ** 40;
const seqs = fc.oneof(
  fc.integer({ min: 1, max: 12_000 }),
  fc.constantFrom(4095, 4096, 4097, 8191, 8192, TOP - 1, TOP),
);
const operation = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant("add" as const),
      seq: seqs,
      state: fc.constantFrom<EndedState>("cancelled", "expired"),
      // Mostly forward, sometimes a little late (a caller that took its clock reading earlier).
      step: fc.integer({ min: -5, max: 20 }),
    }),
    weight: 8,
  },
  {
    arbitrary: fc.record({ kind: fc.constant("prune" as const), back: fc.integer({ min: 0, max: 300 }) }),
    weight: 1,
  },
);

describe("EndedTickets", () => {
  it("answers like the model through any mix of ends, re-ends, cap drops and prunes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.array(operation, { maxLength: 400, size: "max" }),
        (cap, ops) => {
          const ended = new EndedTickets(cap);
          const model = new Model(cap);
          const touched = new Set<number>();
          let now = 1_000;
          for (const op of ops) {
            if (op.kind === "add") {
              now += op.step;
              ended.add(op.seq, op.state, now);
              model.add(op.seq, op.state, now);
              touched.add(op.seq);
            } else {
              expect(ended.prune(now - op.back)).toBe(model.prune(now - op.back));
            }
            expect(ended.size).toBe(model.entries.length);
          }
          for (const seq of touched) expect(ended.state(seq)).toBe(model.states.get(seq));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keeps its ring in order across growth, shrinking and wrap-around", () => {
    const ended = new EndedTickets(1000);
    const stateOf = (seq: number): EndedState => (seq % 3 === 0 ? "expired" : "cancelled");
    const addRange = (from: number, to: number) => {
      for (let seq = from; seq <= to; seq++) ended.add(seq, stateOf(seq), seq);
    };
    addRange(1, 700);
    expect(ended.prune(651)).toBe(650); // shrinks the ring to fit what is left
    addRange(701, 760);
    expect(ended.prune(700)).toBe(49); // the oldest is now mid-ring
    addRange(761, 900); // wraps around the end of the ring, then grows it
    expect(ended.size).toBe(201);
    for (const seq of [1, 650, 699]) expect(ended.state(seq)).toBeUndefined();
    for (const seq of [700, 701, 702, 760, 761, 899, 900]) expect(ended.state(seq)).toBe(stateOf(seq));
    expect(ended.prune(800)).toBe(100);
    expect(ended.state(799)).toBeUndefined();
    expect(ended.state(800)).toBe("cancelled");
    expect(ended.prune(Number.POSITIVE_INFINITY)).toBe(101);
    expect(ended.size).toBe(0);
    expect(ended.state(900)).toBeUndefined();
  });

  it("ignores seqs it could never be asked about, and a NaN cutoff prunes nothing", () => {
    const ended = new EndedTickets(10);
    for (const seq of [0, -1, 1.5, TOP + 1, Number.NaN]) ended.add(seq, "cancelled", 1);
    expect(ended.size).toBe(0);
    ended.add(5, "cancelled", 1);
    expect(ended.prune(Number.NaN)).toBe(0);
    expect(ended.has(5)).toBe(true);
    expect(ended.has(Number.NaN)).toBe(false);
  });

  it("refuses a cap that is not a positive integer", () => {
    for (const cap of [0, -1, 1.5, Number.NaN]) expect(() => new EndedTickets(cap)).toThrow(RangeError);
  });

  it("costs about 16 bytes per ticket when dense, and gives its memory back when emptied", () => {
    const ended = new EndedTickets(1_000_000);
    const empty = ended.memoryBytes();
    for (let seq = 1; seq <= 100_000; seq++) ended.add(seq, "cancelled", seq);
    const perTicket = (ended.memoryBytes() - empty) / 100_000;
    expect(perTicket).toBeGreaterThan(16);
    expect(perTicket).toBeLessThan(24); // the ring may be up to twice the size it holds while growing
    ended.prune(Number.POSITIVE_INFINITY);
    expect(ended.memoryBytes()).toBeLessThan(empty + 2_000); // a spare chunk may stay
  });
});
