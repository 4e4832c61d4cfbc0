import { describe, expect, it } from "vitest";
import { ERROR_STATUS } from "../../src/domain/errors.js";
import {
  directionOf,
  errorMessage,
  fromAcceptLanguage,
  LANGUAGES,
  negotiateLanguage,
  translator,
} from "../../src/i18n/index.js";
import { flatten, RESOURCES } from "../../src/i18n/resources.js";

const PLURAL = /_(zero|one|two|few|many|other)$/;

/** Keys without plural suffixes, and each plural key's forms. */
function shape(language: string) {
  const keys = Object.keys(flatten(RESOURCES[language] ?? {}));
  const plain = new Set<string>();
  const plurals = new Map<string, Set<string>>();
  for (const key of keys) {
    const match = PLURAL.exec(key);
    if (match === null) {
      plain.add(key);
      continue;
    }
    const base = key.slice(0, match.index);
    plain.add(base);
    const forms = plurals.get(base) ?? new Set<string>();
    forms.add(match[1] ?? "");
    plurals.set(base, forms);
  }
  return { plain, plurals };
}

describe("locale files", () => {
  it("the languages are the files in src/i18n/locales, English first", () => {
    expect(LANGUAGES[0]).toBe("en");
    expect(LANGUAGES).toContain("ar");
    expect(new Set(LANGUAGES)).toEqual(new Set(Object.keys(RESOURCES)));
  });

  it("every language has every key of every other language", () => {
    const all = new Set(LANGUAGES.flatMap((language) => [...shape(language).plain]));
    for (const language of LANGUAGES) {
      const missing = [...all].filter((key) => !shape(language).plain.has(key));
      expect(missing, `${language}.json lacks these keys`).toEqual([]);
    }
  });

  it("every plural key has every CLDR form of its language (Arabic: all six)", () => {
    const bases = new Set(LANGUAGES.flatMap((language) => [...shape(language).plurals.keys()]));
    expect(bases.size).toBeGreaterThan(0);
    for (const language of LANGUAGES) {
      const { plurals } = shape(language);
      const categories = new Intl.PluralRules(language).resolvedOptions().pluralCategories;
      for (const base of bases) {
        const forms = plurals.get(base) ?? new Set<string>();
        const missing = categories.filter((category) => !forms.has(category));
        expect(missing, `${language}.json: ${base}_* lacks forms`).toEqual([]);
      }
    }
    expect(new Intl.PluralRules("ar").resolvedOptions().pluralCategories).toHaveLength(6);
  });

  it("no string is empty, and placeholders match English's", () => {
    const english = flatten(RESOURCES.en ?? {});
    const placeholders = (text: string) => [...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();
    for (const language of LANGUAGES) {
      for (const [key, text] of Object.entries(flatten(RESOURCES[language] ?? {}))) {
        expect(text.trim(), `${language}: ${key}`).not.toBe("");
        const base = key.replace(PLURAL, "");
        const reference = english[key] ?? english[`${base}_other`];
        if (reference === undefined || PLURAL.test(key)) continue;
        expect(placeholders(text), `${language}: ${key}`).toEqual(placeholders(reference));
      }
    }
  });

  it("every error code has a visitor-facing message in every language", () => {
    for (const language of LANGUAGES) {
      for (const code of Object.keys(ERROR_STATUS)) {
        expect(errorMessage(language, code), `${language}: ${code}`).toBeTypeOf("string");
      }
    }
  });
});

describe("Arabic plurals", () => {
  const ar = translator("ar");
  it.each([
    [0, "zero", "لا أحد أمامك"],
    [1, "one", "شخص واحد أمامك"],
    [2, "two", "شخصان أمامك"],
    [3, "few", "3 أشخاص أمامك"],
    [10, "few", "10 أشخاص أمامك"],
    [11, "many", "11 شخصًا أمامك"],
    [99, "many", "99 شخصًا أمامك"],
    [100, "other", "100 شخص أمامك"],
    [102, "other", "102 شخص أمامك"],
    [1000, "other", "1,000 شخص أمامك"],
  ])("%i people ahead: the %s form", (count, category, text) => {
    expect(new Intl.PluralRules("ar").select(count)).toBe(category);
    expect(ar.plural("visitor.ahead", count)).toBe(text.replace(/[\d,]+/, ar.number(count)));
  });

  it("English has one and other (and zero for nobody)", () => {
    const en = translator("en");
    expect(en.plural("visitor.ahead", 0)).toBe("No one is ahead of you");
    expect(en.plural("visitor.ahead", 1)).toBe("1 person is ahead of you");
    expect(en.plural("visitor.ahead", 1234)).toBe("1,234 people are ahead of you");
  });
});

describe("formatting", () => {
  it("durations in words by Intl", () => {
    const en = translator("en");
    expect(en.duration(30)).toBe("30 seconds");
    expect(en.duration(180)).toBe("3 minutes");
    expect(en.duration(3600)).toBe("1 hour");
    expect(en.duration(3900)).toBe("1 hour, 5 minutes");
    const ar = translator("ar");
    expect(ar.duration(180)).toBe(`${ar.number(3)} دقائق`);
    expect(ar.duration(660)).toBe(`${ar.number(11)} دقيقة`);
    expect(ar.waitSentence(180)).toBe(`الوقت المتوقع للانتظار: ${ar.number(3)} دقائق`);
  });

  it("waits: soon under a minute, unknown when there is no rate", () => {
    const en = translator("en");
    expect(en.waitSentence(20)).toBe("Estimated wait: less than a minute");
    expect(en.waitSentence(null)).toBe("Estimating your wait…");
    expect(en.waitSentence(Number.MAX_SAFE_INTEGER)).toBe("Estimating your wait…");
    expect(en.waitSentence(600)).toBe("Estimated wait: 10 minutes");
  });

  it("direction", () => {
    expect(directionOf("ar")).toBe("rtl");
    expect(directionOf("en")).toBe("ltr");
    expect(translator("ar").dir).toBe("rtl");
  });
});

describe("language negotiation", () => {
  it("lang first, then Accept-Language with q-values and prefixes, then English", () => {
    expect(negotiateLanguage("ar", "en")).toBe("ar");
    expect(negotiateLanguage("AR-eg", undefined)).toBe("ar");
    expect(negotiateLanguage("fr", "ar-EG,ar;q=0.9,en;q=0.8")).toBe("ar");
    expect(negotiateLanguage(undefined, "fr-FR, en;q=0.5, ar;q=0.7")).toBe("ar");
    expect(negotiateLanguage(undefined, "fr, de")).toBe("en");
    expect(negotiateLanguage(undefined, undefined)).toBe("en");
    expect(negotiateLanguage(undefined, "ar;q=0, en;q=0.1")).toBe("en");
    expect(negotiateLanguage(undefined, "*")).toBe("en");
  });

  it("odd headers do not throw", () => {
    expect(fromAcceptLanguage(";;;,,,q=")).toBeUndefined();
    expect(fromAcceptLanguage("ar;q=abc")).toBeUndefined();
    expect(fromAcceptLanguage(`${"x,".repeat(10_000)}ar`)).toBeUndefined();
  });
});
