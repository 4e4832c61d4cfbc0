import { errors as arErrors, visitor as arVisitor, widget as arWidget } from "../src/i18n/locales/ar.json";
import { errors as enErrors, visitor as enVisitor, widget as enWidget } from "../src/i18n/locales/en.json";
import { flatten } from "./format.js";
import type { Strings } from "./types.js";

/** The widget's languages: the visitor, error and widget strings of each (the rest stays on the server). */
const RESOURCES: Record<string, Record<string, unknown>> = {
  en: { visitor: enVisitor, errors: enErrors, widget: enWidget },
  ar: { visitor: arVisitor, errors: arErrors, widget: arWidget },
};

/** A supported language for a tag ("ar-EG" → "ar"), English when none fits. */
export function pickLanguage(...tags: (string | null | undefined)[]): string {
  for (const tag of tags) {
    const base = tag?.toLowerCase().split(/[-_]/)[0];
    if (base !== undefined && RESOURCES[base] !== undefined) return base;
  }
  return "en";
}

export function stringsFor(lang: string): Strings {
  return flatten(RESOURCES[lang] ?? RESOURCES.en ?? {});
}
