import { KEYS, TEXTS } from "anteroom:strings";
import type { Strings } from "./types.js";

/** The widget's languages (one per file in src/i18n/locales): visitor, error and widget strings. */

/** A supported language for a tag ("ar-EG" → "ar"), English when none fits. */
export function pickLanguage(...tags: (string | null | undefined)[]): string {
  for (const tag of tags) {
    const base = tag?.toLowerCase().split(/[-_]/)[0];
    if (base !== undefined && TEXTS[base] !== undefined) return base;
  }
  return "en";
}

export function stringsFor(lang: string): Strings {
  const values = (TEXTS[lang] ?? TEXTS.en ?? "").split("|");
  const out: Strings = {};
  KEYS.split("|").forEach((key, index) => {
    const value = values[index];
    if (value) out[key] = value;
  });
  return out;
}
