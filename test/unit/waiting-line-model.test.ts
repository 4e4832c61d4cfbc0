import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WaitingLine } from "../../src/index/memory/waiting-line.js";

type Op =
  | { kind: "add"; gap: number; seenAt: number }
  | { kind: "addAt"; seq: number; seenAt: number }
  | { kind: "remove"; pick: number }
  | { kind: "admit"; count: number }
  | { kind: "touch"; pick: number; seenAt: number }
  | { kind: "rank"; seq: number }
  | { kind: "head"; limit: number }
  | { kind: "stale"; cutoff: number; limit: number };

const beat = fc.integer({ min: 0, max: 40 });
const seqArb = fc.oneof(
  fc.integer({ min: 1, max: 20_000 }),
  fc.constantFrom(1, 4095, 4096, 4097, 8191, 8192, 2 ** 40 - 1, 2 ** 40),
);
// Mostly consecutive tickets, sometimes a jump of one or two chunks so chunks fill, drain and compact.
const gapArb = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 4 }), weight: 4 },
  { arbitrary: fc.integer({ min: 4000, max: 9000 }), weight: 1 },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("add"), gap: gapArb, seenAt: beat }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant("addAt"), seq: seqArb, seenAt: beat }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("remove"), pick: fc.nat() }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant("admit"), count: fc.integer({ min: 1, max: 20 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("touch"), pick: fc.nat(), seenAt: beat }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("rank"), seq: seqArb }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("head"), limit: fc.integer({ min: 0, max: 50 }) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant("stale"),
      cutoff: beat,
      limit: fc.integer({ min: 0, max: 50 }),
    }),
    weight: 1,
  },
);

/** expect() costs ~20µs a call, too slow for every step of every run; only fall back to it to report. */
function same<T extends number | boolean | undefined | (number | undefined)[]>(actual: T, expected: T): void {
  const equal =
    Array.isArray(actual) && Array.isArray(expected)
      ? actual.length === expected.length && actual.every((v, i) => v === expected[i])
      : actual === expected;
  if (!equal) expect(actual).toEqual(expected);
}

describe("WaitingLine against a reference model", () => {
  it("agrees with a sorted array and a map", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 300, size: "max" }), (ops) => {
        const line = new WaitingLine();
        const beats = new Map<number, number>();
        let sorted: number[] = [];
        let next = 1;
        const below = (seq: number) => sorted.filter((m) => m < seq).length;
        const pickMember = (pick: number) => sorted[pick % Math.max(1, sorted.length)];

        for (const op of ops) {
          switch (op.kind) {
            case "add":
            case "addAt": {
              let seq: number;
              if (op.kind === "add") {
                next += op.gap;
                seq = next;
              } else {
                seq = op.seq;
              }
              const fresh = !beats.has(seq);
              same(line.add(seq, op.seenAt), fresh);
              if (fresh) {
                beats.set(seq, op.seenAt);
                sorted.push(seq);
                sorted.sort((a, b) => a - b);
              }
              break;
            }
            case "remove": {
              const seq = pickMember(op.pick) ?? op.pick + 1;
              const present = beats.delete(seq);
              same(line.remove(seq), present);
              if (present) sorted = sorted.filter((m) => m !== seq);
              break;
            }
            case "admit": {
              // Releasing the head of the line is how chunks drain in practice.
              const admitted = line.head(op.count);
              same(admitted, sorted.slice(0, op.count));
              for (const seq of admitted) {
                same(line.remove(seq), true);
                beats.delete(seq);
              }
              sorted = sorted.slice(admitted.length);
              break;
            }
            case "touch": {
              const seq = pickMember(op.pick) ?? op.pick + 1;
              line.touch(seq, op.seenAt);
              if (beats.has(seq)) beats.set(seq, op.seenAt);
              same(line.seenAt(seq), beats.get(seq));
              break;
            }
            case "rank":
              same(line.rank(op.seq), below(op.seq));
              same(line.has(op.seq), beats.has(op.seq));
              break;
            case "head":
              same(line.head(op.limit), sorted.slice(0, op.limit));
              break;
            case "stale": {
              const expected = sorted.filter((m) => (beats.get(m) ?? 0) < op.cutoff).slice(0, op.limit);
              same(line.staleBefore(op.cutoff, op.limit), expected);
              break;
            }
          }
          same(line.size, sorted.length);
        }
        same(
          sorted.map((seq) => line.rank(seq)),
          sorted.map((_, i) => i),
        );
        same(
          sorted.map((seq) => line.seenAt(seq)),
          sorted.map((seq) => beats.get(seq)),
        );
        same(line.head(sorted.length + 1), sorted);
      }),
      { numRuns: 400 },
    );
  });
});
