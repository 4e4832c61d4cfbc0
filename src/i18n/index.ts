import i18next, { type TFunction } from "i18next";
import { flatten, LANGUAGES, RESOURCES, type Resource } from "./resources.js";

export { LANGUAGES } from "./resources.js";

/**
 * Visitor-facing text on the server: the hosted waiting page and the `message` of visitor routes' errors.
 * i18next with CLDR plural rules (Intl.PluralRules: Arabic has zero, one, two, few, many and other), numbers
 * and durations formatted by Intl for the language.
 */

/** Languages written right to left (by their primary subtag). */
const RTL = new Set(["ar", "fa", "he", "ur", "ps", "dv", "ku", "yi"]);

const numberFormats = new Map<string, Intl.NumberFormat>();
function numberFormat(language: string): Intl.NumberFormat {
  let format = numberFormats.get(language);
  if (format === undefined) {
    format = new Intl.NumberFormat(language);
    numberFormats.set(language, format);
  }
  return format;
}

const instance = i18next.createInstance();
void instance.init({
  resources: Object.fromEntries(
    Object.entries(RESOURCES).map(([language, resource]) => [language, { translation: resource }]),
  ),
  lng: "en",
  fallbackLng: "en",
  supportedLngs: [...LANGUAGES],
  initAsync: false,
  returnNull: false,
  // The page escapes what it writes into HTML; JSON bodies need no escaping.
  interpolation: { escapeValue: false },
});

/** A supported language for a language tag (`ar-EG` → `ar`), or undefined. */
export function supportedLanguage(tag: string): string | undefined {
  const lower = tag.trim().toLowerCase();
  if (lower === "") return undefined;
  for (const language of LANGUAGES) if (language.toLowerCase() === lower) return language;
  const primary = lower.split("-")[0];
  return LANGUAGES.find((language) => language.toLowerCase() === primary);
}

/** The supported language `Accept-Language` prefers most (q-values honoured), or undefined. */
export function fromAcceptLanguage(header: string | undefined): string | undefined {
  if (header === undefined || header === "") return undefined;
  let best: string | undefined;
  let bestQ = 0;
  // A header is short in practice; a long one is read no further than its first few hundred characters.
  for (const part of header.slice(0, 512).split(",").slice(0, 24)) {
    const [tag = "", ...params] = part.split(";");
    let q = 1;
    for (const param of params) {
      const [name, value] = param.split("=");
      if (name?.trim() === "q" && value !== undefined) {
        const parsed = Number(value.trim());
        q = Number.isFinite(parsed) ? parsed : 0;
      }
    }
    if (q <= bestQ) continue;
    const language = tag.trim() === "*" ? "en" : supportedLanguage(tag);
    if (language !== undefined) {
      best = language;
      bestQ = q;
    }
  }
  return best;
}

/** The request's language: an explicit `lang` (query), else `Accept-Language`, else English. */
export function negotiateLanguage(lang: string | undefined, acceptLanguage: string | undefined): string {
  return (
    (lang === undefined ? undefined : supportedLanguage(lang)) ?? fromAcceptLanguage(acceptLanguage) ?? "en"
  );
}

export function directionOf(language: string): "ltr" | "rtl" {
  return RTL.has(language.split("-")[0] ?? "") ? "rtl" : "ltr";
}

const SECONDS_UNKNOWN = 7 * 24 * 3600;

/** Text for one language. */
export class Translator {
  readonly dir: "ltr" | "rtl";
  private readonly fixed: TFunction;

  constructor(readonly lang: string) {
    this.dir = directionOf(lang);
    this.fixed = instance.getFixedT(lang);
  }

  /** A string by key (`visitor.title`), interpolated; English when this language lacks it. */
  t(key: string, vars: Record<string, string | number> = {}): string {
    return this.fixed(key, { replace: this.written(vars) }) as string;
  }

  /** Numbers written as the language writes them. */
  private written(vars: Record<string, string | number>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(vars)) {
      out[name] = typeof value === "number" ? this.number(value) : value;
    }
    return out;
  }

  /** Whether the key exists in this language or English. */
  has(key: string): boolean {
    return instance.exists(key, { lng: this.lang });
  }

  /** The plural form of `key` for `count` (CLDR rules), with `{{count}}` written as the language does. */
  plural(key: string, count: number, vars: Record<string, string | number> = {}): string {
    // `count` picks the form; `replace` is what is interpolated, the count written for the language.
    return this.fixed(key, { count, replace: this.written({ ...vars, count }) }) as string;
  }

  number(value: number): string {
    return numberFormat(this.lang).format(value);
  }

  private unit(value: number, unit: "second" | "minute" | "hour"): string {
    return new Intl.NumberFormat(this.lang, { style: "unit", unit, unitDisplay: "long" }).format(value);
  }

  /**
   * A duration in words, as the page's script writes it: seconds under a minute, whole minutes under an
   * hour, else hours and minutes ("1 hour, 5 minutes"; "ساعة و٥ دقائق").
   */
  duration(seconds: number): string {
    if (seconds < 60) return this.unit(Math.max(1, Math.round(seconds)), "second");
    const minutes = Math.round(seconds / 60);
    if (minutes < 60) return this.unit(minutes, "minute");
    const hours = Math.floor(minutes / 60);
    const rest = minutes % 60;
    if (rest === 0) return this.unit(hours, "hour");
    return new Intl.ListFormat(this.lang, { type: "unit", style: "long" }).format([
      this.unit(hours, "hour"),
      this.unit(rest, "minute"),
    ]);
  }

  /** The estimated wait as a sentence: "less than a minute" under one, "estimating" when unknown. */
  waitSentence(seconds: number | null): string {
    if (seconds === null || seconds >= SECONDS_UNKNOWN) return this.t("visitor.wait_unknown");
    if (seconds < 60) return this.t("visitor.wait_soon");
    return this.t("visitor.wait", { duration: this.duration(seconds) });
  }

  /** The `visitor` section flattened (`title`, `ahead_one`, ...), English filling any gap. */
  visitorStrings(): Record<string, string> {
    const english = RESOURCES.en?.visitor;
    const own = RESOURCES[this.lang]?.visitor;
    return {
      ...(typeof english === "object" ? flatten(english) : {}),
      ...(typeof own === "object" ? flatten(own) : {}),
    };
  }
}

const translators = new Map<string, Translator>();

/** The translator of a language (English for one there is no file for); one per language, made once. */
export function translator(language: string): Translator {
  const supported = supportedLanguage(language) ?? "en";
  let found = translators.get(supported);
  if (found === undefined) {
    found = new Translator(supported);
    translators.set(supported, found);
  }
  return found;
}

/**
 * The visitor-facing message for an error code in a language, or undefined when there is none: `errors.<code>`,
 * else `page.errors.<code>` (codes added after the errors section was written).
 */
export function errorMessage(language: string, code: string): string | undefined {
  const resource: Resource | undefined = RESOURCES[language];
  const errors = resource?.errors;
  const own = typeof errors === "object" ? errors[code] : undefined;
  if (typeof own === "string") return own;
  const page = resource?.page;
  const pageErrors = typeof page === "object" ? page.errors : undefined;
  const later = typeof pageErrors === "object" ? pageErrors[code] : undefined;
  return typeof later === "string" ? later : undefined;
}
