import { describe, expect, it } from "vitest";
import { Announcer, backoffMs, pollDelayMs } from "../../client/announce.js";

describe("announcer", () => {
  it("announces the first position, then at most every 30 s", () => {
    const announcer = new Announcer();
    expect(announcer.position(500, 0)).toBe(true);
    expect(announcer.position(499, 2_000)).toBe(false);
    expect(announcer.position(480, 20_000)).toBe(false);
    expect(announcer.position(470, 30_000)).toBe(true);
    expect(announcer.position(470, 90_000)).toBe(false);
  });

  it("announces a big change at once", () => {
    const announcer = new Announcer();
    announcer.position(100, 0);
    expect(announcer.position(90, 1_000)).toBe(false);
    expect(announcer.position(79, 2_000)).toBe(true);
  });

  it("announces every step near the front", () => {
    const announcer = new Announcer();
    announcer.position(40, 0);
    expect(announcer.position(3, 1_000)).toBe(true);
    expect(announcer.position(2, 2_000)).toBe(true);
    expect(announcer.position(1, 3_000)).toBe(true);
  });

  it("announces an ended place once, always", () => {
    const announcer = new Announcer();
    announcer.position(10, 0);
    expect(announcer.ended("released")).toBe(true);
    expect(announcer.ended("released")).toBe(false);
  });
});

describe("backoff", () => {
  it("doubles up to the cap, with half of it jittered", () => {
    expect(backoffMs(1, 1_000, 30_000, () => 0)).toBe(500);
    expect(backoffMs(1, 1_000, 30_000, () => 1)).toBe(1_000);
    expect(backoffMs(3, 1_000, 30_000, () => 1)).toBe(4_000);
    expect(backoffMs(20, 1_000, 30_000, () => 0)).toBe(15_000);
    expect(backoffMs(20, 1_000, 30_000, () => 1)).toBe(30_000);
  });

  it("polls at the server's hint, within 1..60 s, jittered down by at most a tenth", () => {
    expect(pollDelayMs(5, () => 1)).toBe(5_000);
    expect(pollDelayMs(5, () => 0)).toBe(4_500);
    expect(pollDelayMs(0, () => 1)).toBe(1_000);
    expect(pollDelayMs(600, () => 1)).toBe(60_000);
    expect(pollDelayMs(null, () => 1)).toBe(5_000);
  });
});
