import { describe, expect, it } from "vitest";
import { stringsModule } from "../../src/http/client-bundle.js";
import { flatten, LANGUAGES, RESOURCES } from "../../src/i18n/resources.js";

/** The compact strings module queue.js is built with: every language, every key in its place. */
describe("the client's strings", () => {
  const source = stringsModule();
  const keys = JSON.parse(/KEYS=("[^"]*")/.exec(source)?.[1] ?? '""') as string;
  const texts = JSON.parse(/TEXTS=(\{.*\});/.exec(source)?.[1] ?? "{}") as Record<string, string>;

  it("holds each language's visitor, error and widget strings, and nothing else", () => {
    expect(Object.keys(texts)).toEqual([...LANGUAGES]);
    for (const language of LANGUAGES) {
      const values = (texts[language] ?? "").split("|");
      const decoded: Record<string, string> = {};
      keys.split("|").forEach((key, index) => {
        if (values[index]) decoded[key] = values[index];
      });
      const expected = Object.fromEntries(
        Object.entries(flatten(RESOURCES[language] ?? {}))
          .filter(([key]) => /^(visitor|errors|widget)\./.test(key) && key !== "visitor.refreshes")
          .map(([key, value]) => [key.replace(/^visitor\./, ""), value]),
      );
      expect(decoded, language).toEqual(expected);
    }
    expect(texts.ar).toContain("أمامك");
  });
});
