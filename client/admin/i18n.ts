import { STRINGS } from "anteroom:admin-strings";

/** The console's strings: the `admin` section of every locale file, bundled (src/http/admin-bundle.ts). */

export const LANGUAGES: readonly string[] = Object.keys(STRINGS);
const RTL = new Set(["ar", "fa", "he", "ur"]);

let current = "en";

export function language(): string {
  return current;
}

/** A supported language for a tag ("ar-EG" → "ar"), English when none fits. */
export function pickLanguage(tag: string | null | undefined): string {
  const base = tag?.toLowerCase().split(/[-_]/)[0];
  return base !== undefined && STRINGS[base] !== undefined ? base : "en";
}

/** Switches the language: the document's lang and dir follow. */
export function setLanguage(lang: string): void {
  current = pickLanguage(lang);
  document.documentElement.lang = current;
  document.documentElement.dir = RTL.has(current) ? "rtl" : "ltr";
}

/** A string by key, `{{name}}` replaced; English when this language lacks it, else the key itself. */
export function t(key: string, vars: Record<string, string | number> = {}): string {
  const text = STRINGS[current]?.[key] ?? STRINGS.en?.[key] ?? key;
  return text.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
    const value = vars[name];
    if (value === undefined) return whole;
    return typeof value === "number" ? num(value) : value;
  });
}

export function num(value: number, digits = 0): string {
  return new Intl.NumberFormat(current, { maximumFractionDigits: digits }).format(value);
}

export function percent(ratio: number): string {
  return new Intl.NumberFormat(current, { style: "percent", maximumFractionDigits: 1 }).format(ratio);
}

export function dateTime(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(current, { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** Seconds as "1 h 5 min", "3 min", "40 s" (Intl units), "—" for null. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const unit = (value: number, name: "hour" | "minute" | "second") =>
    new Intl.NumberFormat(current, { style: "unit", unit: name, unitDisplay: "short" }).format(value);
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return unit(s, "second");
  if (s < 3600) return unit(Math.round(s / 60), "minute");
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return m === 0 ? unit(h, "hour") : `${unit(h, "hour")} ${unit(m, "minute")}`;
}
