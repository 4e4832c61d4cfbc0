import { describe, expect, it } from "vitest";
import { Formatter, flatten, interpolate, pluralKey, progressOf, viewModel } from "../../client/format.js";
import type { VisitorStatus } from "../../client/types.js";
import ar from "../../src/i18n/locales/ar.json" with { type: "json" };
import en from "../../src/i18n/locales/en.json" with { type: "json" };

const english = new Formatter("en", flatten(en));
const arabic = new Formatter("ar", flatten(ar));

const waiting = (position: number, wait: number | null = 120): VisitorStatus => ({
  status: "waiting",
  position,
  users_ahead: position - 1,
  estimated_wait_seconds: wait,
  queue_size: 100,
  poll_after_seconds: 5,
});

describe("strings", () => {
  it("flattens the resources without the visitor prefix", () => {
    const strings = flatten(en);
    expect(strings.title).toBe("You're in line");
    expect(strings["errors.invalid_token"]).toBeDefined();
    expect(strings["widget.stay"]).toBe("Stay in line");
    expect(flatten({ "visitor.title": "x" }).title).toBe("x");
  });

  it("interpolates {{names}} and leaves unknown ones", () => {
    expect(interpolate("a {{x}} b {{ y }} {{z}}", { x: "1", y: "2" })).toBe("a 1 b 2 {{z}}");
  });

  it("picks English plurals, with _zero for 0 as i18next does", () => {
    expect(english.plural("ahead", 0)).toBe("No one is ahead of you");
    expect(english.plural("ahead", 1)).toBe("1 person is ahead of you");
    expect(english.plural("ahead", 2)).toBe("2 people are ahead of you");
    expect(english.plural("ahead", 1234)).toBe("1,234 people are ahead of you");
  });

  it("picks the six Arabic forms: 0, 1, 2, 3-10, 11-99, 100+", () => {
    const strings = flatten(ar);
    const form = (n: number) => pluralKey(strings, "ahead", n, "ar");
    expect(form(0)).toBe("ahead_zero");
    expect(form(1)).toBe("ahead_one");
    expect(form(2)).toBe("ahead_two");
    expect([3, 7, 10].map(form)).toEqual(["ahead_few", "ahead_few", "ahead_few"]);
    expect([11, 50, 99].map(form)).toEqual(["ahead_many", "ahead_many", "ahead_many"]);
    expect([100, 101, 102].map(form)).toEqual(["ahead_other", "ahead_other", "ahead_other"]);
    expect(arabic.plural("ahead", 5)).toBe(`${new Intl.NumberFormat("ar").format(5)} أشخاص أمامك`);
  });

  it("falls back to _other, then the key", () => {
    expect(pluralKey({ x_other: "o" }, "x", 1, "en")).toBe("x_other");
    expect(pluralKey({}, "x", 1, "en")).toBeUndefined();
    expect(english.t("missing.key")).toBe("missing.key");
  });
});

describe("durations", () => {
  it("says seconds, minutes, hours and minutes with Intl", () => {
    expect(english.duration(30)).toBe("30 seconds");
    expect(english.duration(60)).toBe("1 minute");
    expect(english.duration(150)).toBe("3 minutes");
    expect(english.duration(3600)).toBe("1 hour");
    expect(english.duration(5400)).toMatch(/^1 hour,? (and )?30 minutes$/);
    expect(arabic.duration(120)).toBe("دقيقتان");
  });

  it("words the estimate: unknown, soon, or a duration", () => {
    expect(viewModel(english, waiting(3, null), 3).wait).toBe("Estimating your wait…");
    expect(viewModel(english, waiting(3, 20), 3).wait).toBe("Estimated wait: less than a minute");
    expect(viewModel(english, waiting(3, 600), 3).wait).toBe("Estimated wait: 10 minutes");
  });
});

describe("view model", () => {
  it("shows a waiting place", () => {
    const view = viewModel(english, waiting(12), 20);
    expect(view).toMatchObject({
      state: "waiting",
      position: "12",
      positionSentence: "You are number 12 in line",
      ahead: "11 people are ahead of you",
      progress: 40,
      ended: "",
    });
  });

  it("formats Arabic digits and sentences", () => {
    const view = viewModel(arabic, waiting(12), 12);
    expect(view.position).toBe(new Intl.NumberFormat("ar").format(12));
    expect(view.positionSentence).toContain("ترتيبك");
  });

  it("says how a place ended", () => {
    const ended = (status: VisitorStatus["status"]) =>
      viewModel(english, { ...waiting(1), status, position: null, users_ahead: null }, 5);
    expect(ended("released")).toMatchObject({ progress: 100, ended: "It's your turn!", position: "" });
    expect(ended("cancelled").ended).toBe("You left the line.");
    expect(ended("expired").ended).toBe("Your place in line has expired.");
  });

  it("measures progress from the largest position seen", () => {
    expect(progressOf(waiting(10), 10)).toBe(0);
    expect(progressOf(waiting(5), 10)).toBe(50);
    expect(progressOf(waiting(1), 10)).toBe(90);
    expect(progressOf(waiting(1), 1)).toBe(0);
    expect(progressOf(waiting(12), 10)).toBe(0);
  });
});
