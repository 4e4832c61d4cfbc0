import { describe, expect, it } from "vitest";
import { WaitingLine } from "../../src/index/memory/waiting-line.js";

function lineOf(...seqs: number[]): WaitingLine {
  const line = new WaitingLine();
  for (const seq of seqs) line.add(seq, 0);
  return line;
}

describe("WaitingLine", () => {
  it("is empty to begin with", () => {
    const line = new WaitingLine();
    expect(line.size).toBe(0);
    expect(line.has(1)).toBe(false);
    expect(line.rank(1)).toBe(0);
    expect(line.rank(10_000)).toBe(0);
    expect(line.seenAt(1)).toBeUndefined();
    expect(line.head(10)).toEqual([]);
    expect(line.staleBefore(100, 10)).toEqual([]);
    expect(line.remove(1)).toBe(false);
    line.touch(1, 5);
    expect(line.has(1)).toBe(false);
    expect(line.memoryBytes()).toBeGreaterThan(0);
  });

  it("adds, refuses duplicates, and removes", () => {
    const line = new WaitingLine();
    expect(line.add(1, 10)).toBe(true);
    expect(line.add(1, 20)).toBe(false);
    expect(line.seenAt(1)).toBe(10);
    expect(line.size).toBe(1);
    expect(line.has(1)).toBe(true);
    expect(line.remove(1)).toBe(true);
    expect(line.remove(1)).toBe(false);
    expect(line.has(1)).toBe(false);
    expect(line.size).toBe(0);
  });

  it("re-adds after remove with the new heartbeat", () => {
    const line = lineOf(1, 2, 3);
    line.remove(2);
    expect(line.add(2, 99)).toBe(true);
    expect(line.seenAt(2)).toBe(99);
    expect(line.rank(3)).toBe(2);
  });

  it("re-adds into a chunk that was drained and freed", () => {
    const line = lineOf(4096, 4097);
    line.remove(4096);
    line.remove(4097);
    expect(line.size).toBe(0);
    expect(line.has(4097)).toBe(false);
    expect(line.add(4100, 7)).toBe(true);
    expect(line.has(4097)).toBe(false);
    expect(line.head(5)).toEqual([4100]);
    expect(line.seenAt(4100)).toBe(7);
  });

  it("ranks across chunk boundaries", () => {
    const line = lineOf(1, 4095, 4096, 4097, 8191, 8192);
    expect(line.rank(1)).toBe(0);
    expect(line.rank(4095)).toBe(1);
    expect(line.rank(4096)).toBe(2);
    expect(line.rank(4097)).toBe(3);
    expect(line.rank(8191)).toBe(4);
    expect(line.rank(8192)).toBe(5);
    expect(line.rank(8193)).toBe(6);
    expect(line.head(10)).toEqual([1, 4095, 4096, 4097, 8191, 8192]);
  });

  it("ranks absent seqs by the members below them", () => {
    const line = lineOf(10, 20, 30, 5000);
    expect(line.rank(15)).toBe(1);
    expect(line.rank(31)).toBe(3);
    expect(line.rank(4096)).toBe(3);
    expect(line.rank(4999)).toBe(3);
    expect(line.rank(1_000_000)).toBe(4);
    expect(line.rank(0)).toBe(0);
    expect(line.rank(-5)).toBe(0);
    expect(line.rank(Number.NaN)).toBe(0);
    expect(line.rank(20.5)).toBe(2);
    expect(line.rank(2 ** 50)).toBe(4);
  });

  it("handles gaps, out-of-order adds and seqs near 2^40", () => {
    const big = 2 ** 40;
    const line = lineOf(big, 50_000, 3, big - 1, 4096 * 7 + 5, 1);
    expect(line.size).toBe(6);
    expect(line.head(10)).toEqual([1, 3, 4096 * 7 + 5, 50_000, big - 1, big]);
    expect(line.rank(big)).toBe(5);
    expect(line.rank(big - 1)).toBe(4);
    expect(line.rank(50_000)).toBe(3);
    expect(line.rank(4)).toBe(2);
    expect(line.remove(3)).toBe(true);
    expect(line.rank(big)).toBe(4);
    // A stray huge seq must not make the index proportional to its value.
    expect(line.memoryBytes()).toBeLessThan(200_000);
  });

  it("rejects invalid seqs and heartbeats on add", () => {
    const line = new WaitingLine();
    expect(() => line.add(0, 1)).toThrow(RangeError);
    expect(() => line.add(1.5, 1)).toThrow(RangeError);
    expect(() => line.add(2 ** 40 + 1, 1)).toThrow(RangeError);
    expect(() => line.add(1, -1)).toThrow(RangeError);
    expect(() => line.add(1, 2 ** 32)).toThrow(RangeError);
    expect(() => line.add(1, 0.5)).toThrow(RangeError);
    expect(line.size).toBe(0);
    expect(line.has(0)).toBe(false);
    expect(line.has(1.5)).toBe(false);
    expect(line.remove(-1)).toBe(false);
    expect(line.seenAt(Number.NaN)).toBeUndefined();
  });

  it("touches present members only and keeps full uint32 heartbeats", () => {
    const line = lineOf(1, 2);
    line.touch(2, 0xffffffff);
    line.touch(3, 7);
    expect(line.seenAt(2)).toBe(0xffffffff);
    expect(line.seenAt(1)).toBe(0);
    expect(line.has(3)).toBe(false);
    expect(line.seenAt(3)).toBeUndefined();
  });

  it("head respects limit and skips drained chunks", () => {
    const line = new WaitingLine();
    for (let seq = 1; seq <= 20_000; seq++) line.add(seq, seq);
    for (let seq = 1; seq <= 15_000; seq++) line.remove(seq);
    expect(line.head(3)).toEqual([15_001, 15_002, 15_003]);
    expect(line.head(0)).toEqual([]);
    expect(line.head(-1)).toEqual([]);
    expect(line.head(Number.POSITIVE_INFINITY)).toHaveLength(5000);
    expect(line.rank(15_001)).toBe(0);
    expect(line.rank(20_000)).toBe(4999);
  });

  it("staleBefore returns ascending stale members up to limit", () => {
    const line = new WaitingLine();
    for (let seq = 1; seq <= 100; seq++) line.add(seq, seq % 2 === 0 ? 100 : 5);
    line.add(9000, 1);
    expect(line.staleBefore(6, 3)).toEqual([1, 3, 5]);
    expect(line.staleBefore(6, 1000)).toHaveLength(51);
    expect(line.staleBefore(2, 10)).toEqual([9000]);
    expect(line.staleBefore(5, 10)).toEqual([9000]);
    expect(line.staleBefore(0, 10)).toEqual([]);
    expect(line.staleBefore(2 ** 32, 1000)).toHaveLength(101);
    expect(line.staleBefore(1000, 0)).toEqual([]);
  });

  it("staleBefore sees touches in full and sparse words", () => {
    const line = new WaitingLine();
    for (let seq = 1; seq <= 64; seq++) line.add(seq, 50);
    line.remove(40);
    line.touch(10, 1);
    line.touch(45, 1);
    expect(line.staleBefore(2, 10)).toEqual([10, 45]);
  });

  it("compacts after many drained chunks without losing members", () => {
    const line = new WaitingLine();
    const chunks = 200;
    for (let c = 0; c < chunks; c++) line.add(c * 4096 + 1, c);
    for (let c = 0; c < chunks - 3; c++) line.remove(c * 4096 + 1);
    expect(line.size).toBe(3);
    expect(line.head(10)).toEqual([197 * 4096 + 1, 198 * 4096 + 1, 199 * 4096 + 1]);
    expect(line.rank(199 * 4096 + 1)).toBe(2);
    line.add(5, 1);
    expect(line.rank(199 * 4096 + 1)).toBe(3);
    expect(line.staleBefore(198, 10)).toEqual([5, 197 * 4096 + 1]);
  });

  it("holds 1,000,000 members in well under 16 bytes each", () => {
    const line = new WaitingLine();
    const n = 1_000_000;
    for (let seq = 1; seq <= n; seq++) line.add(seq, seq & 0xffff);
    expect(line.size).toBe(n);
    expect(line.rank(1)).toBe(0);
    expect(line.rank(4096)).toBe(4095);
    expect(line.rank(500_000)).toBe(499_999);
    expect(line.rank(n)).toBe(n - 1);
    line.remove(10);
    expect(line.rank(n)).toBe(n - 2);
    expect(line.memoryBytes() / line.size).toBeLessThan(16);
  });
});

describe("after (paging)", () => {
  it("pages through members in order from any point", () => {
    const line = new WaitingLine();
    for (const seq of [1, 2, 4095, 4096, 4097, 9000, 20_000]) line.add(seq, 10);
    line.remove(2);
    expect(line.after(0, 3)).toEqual([1, 4095, 4096]);
    expect(line.after(4096, 10)).toEqual([4097, 9000, 20_000]);
    expect(line.after(20_000, 10)).toEqual([]);
    expect(line.after(1, 0)).toEqual([]);
  });
});
