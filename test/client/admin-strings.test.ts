import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { adminStringsModule } from "../../src/http/admin-bundle.js";
import { flatten, LANGUAGES, RESOURCES } from "../../src/i18n/resources.js";

/** The console's strings: every key its sources ask for is in every locale's `admin` section. */
const ADMIN = path.resolve(import.meta.dirname, "../../client/admin");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return /\.tsx?$/.test(entry.name) ? [readFileSync(full, "utf8")] : [];
  });
}

const admin = (language: string) => {
  const section = RESOURCES[language]?.admin;
  return typeof section === "object" ? flatten(section) : {};
};

describe("the console's strings", () => {
  const code = sources(ADMIN).join("\n");

  it("every literal key the client uses exists in every language", () => {
    const keys = new Set([...code.matchAll(/\bt\("([a-z_.]+)"/g)].map((match) => match[1] ?? ""));
    // Keys named in the navigation table.
    for (const match of code.matchAll(/key: "([a-z_.]+)"/g)) keys.add(match[1] ?? "");
    expect(keys.size).toBeGreaterThan(100);
    for (const language of LANGUAGES) {
      const missing = [...keys].filter((key) => admin(language)[key] === undefined);
      expect(missing, `${language}.json admin.*`).toEqual([]);
    }
  });

  it("the keys made from API values exist for every value the API documents", () => {
    const expected = [
      ...["admin", "operator", "viewer"].map((role) => `role.${role}`),
      ...["ok", "degraded", "up", "down"].map((state) => `health.${state}`),
      ...["live", "simulation"].map((mode) => `queues.mode_${mode}`),
      ...["forbidden", "not_found", "validation_failed", "conflict", "rate_limited", "invalid_grant"].map(
        (error) => `error.${error}`,
      ),
    ];
    for (const language of LANGUAGES) {
      expect(
        expected.filter((key) => admin(language)[key] === undefined),
        language,
      ).toEqual([]);
    }
  });

  it("the bundled module carries every language's admin section, Arabic included", () => {
    const module = adminStringsModule();
    const strings = JSON.parse(module.replace(/^export const STRINGS=/, "").replace(/;$/, "")) as Record<
      string,
      Record<string, string>
    >;
    expect(Object.keys(strings)).toEqual([...LANGUAGES]);
    expect(strings.ar?.["login.title"]).toBe("تسجيل الدخول");
    expect(Object.keys(strings.ar ?? {}).sort()).toEqual(Object.keys(strings.en ?? {}).sort());
  });
});
