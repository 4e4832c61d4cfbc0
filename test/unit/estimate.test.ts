import { describe, expect, it } from "vitest";
import {
  configuredPerMinute,
  emptyMeter,
  estimateWaitSeconds,
  measuredPerMinute,
  pollAfterSeconds,
  recordReleases,
} from "../../src/domain/estimate.js";

describe("wait estimates", () => {
  it("divides the position by the rate", () => {
    expect(estimateWaitSeconds(1, 60)).toBe(1);
    expect(estimateWaitSeconds(100, 60)).toBe(100);
    expect(estimateWaitSeconds(10, 7)).toBe(86);
    expect(estimateWaitSeconds(0, 60)).toBe(0);
  });

  it("caps a queue's rate by its application's shared intake", () => {
    expect(configuredPerMinute(100, null)).toBe(100);
    expect(configuredPerMinute(100, 30)).toBe(30);
  });

  it("polls often near the front, rarely far back, always well inside the abandonment window", () => {
    expect(pollAfterSeconds(3, 300)).toBe(2);
    expect(pollAfterSeconds(60, 300)).toBe(12);
    expect(pollAfterSeconds(100_000, 300)).toBe(30);
    expect(pollAfterSeconds(100_000, 60)).toBe(15);
  });

  it("measures the release rate over busy time only, following changes", () => {
    let meter = emptyMeter();
    let now = 0;
    expect(measuredPerMinute(meter)).toBeUndefined();
    for (let i = 0; i < 120; i++) {
      now += 1000;
      meter = recordReleases(meter, now, 1, true); // one a second
    }
    expect(measuredPerMinute(meter)).toBeCloseTo(60, 0);
    now += 3_600_000; // an idle hour is not busy time
    meter = recordReleases(meter, now, 0, false);
    for (let i = 0; i < 300; i++) {
      now += 2000;
      meter = recordReleases(meter, now, 1, true); // now one every two seconds
    }
    expect(measuredPerMinute(meter)).toBeCloseTo(30, 0);
  });
});
