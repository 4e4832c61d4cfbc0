import { isTerminal, type Strings, type VisitorStatus } from "./types.js";

/**
 * Strings and numbers for a visitor, from i18next-format resources without i18next: `{{name}}`
 * interpolation and CLDR plural suffixes (`key_zero` for 0 when present, as i18next does, then
 * `key_<Intl.PluralRules category>`, then `key_other`).
 */

/** `{{name}}` replaced by vars[name]; unknown names are left as they are. */
export function interpolate(text: string, vars: Record<string, string> = {}): string {
  return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) => vars[name] ?? whole);
}

/** The plural form of `key` for `count` in `locale`, or undefined when the strings have none. */
export function pluralKey(strings: Strings, key: string, count: number, locale: string): string | undefined {
  if (count === 0 && strings[`${key}_zero`] !== undefined) return `${key}_zero`;
  const category = new Intl.PluralRules(locale).select(count);
  for (const candidate of [`${key}_${category}`, `${key}_other`, key]) {
    if (strings[candidate] !== undefined) return candidate;
  }
  return undefined;
}

export class Formatter {
  readonly locale: string;
  private readonly _number: Intl.NumberFormat;

  constructor(
    readonly lang: string,
    readonly strings: Strings,
  ) {
    this.locale = lang;
    this._number = new Intl.NumberFormat(lang);
  }

  /** A string by key (flat), interpolated; the key itself when missing (visible, never a crash). */
  t(key: string, vars: Record<string, string> = {}): string {
    return interpolate(this.strings[key] ?? key, vars);
  }

  has(key: string): boolean {
    return this.strings[key] !== undefined;
  }

  /** A plural string: `{{count}}` is the count formatted for the locale. */
  plural(key: string, count: number, vars: Record<string, string> = {}): string {
    const chosen = pluralKey(this.strings, key, count, this.locale) ?? key;
    return this.t(chosen, { ...vars, count: this.num(count) });
  }

  num(value: number): string {
    return this._number.format(value);
  }

  /** A duration in words: whole minutes under an hour, else hours and minutes (Intl units). */
  duration(seconds: number): string {
    const unit = (value: number, name: "hour" | "minute" | "second") =>
      new Intl.NumberFormat(this.locale, { style: "unit", unit: name, unitDisplay: "long" }).format(value);
    if (seconds < 60) return unit(Math.max(1, Math.round(seconds)), "second");
    const minutes = Math.round(seconds / 60);
    if (minutes < 60) return unit(minutes, "minute");
    const hours = Math.floor(minutes / 60);
    const rest = minutes % 60;
    if (rest === 0) return unit(hours, "hour");
    const parts = [unit(hours, "hour"), unit(rest, "minute")];
    return typeof Intl.ListFormat === "function"
      ? new Intl.ListFormat(this.locale, { type: "unit", style: "long" }).format(parts)
      : parts.join(" ");
  }
}

/** The sentences and figures a visitor sees for a status. */
export interface ViewModel {
  state: VisitorStatus["status"];
  /** The position as formatted digits ("12", "١٢"); empty when not waiting. */
  position: string;
  positionSentence: string;
  ahead: string;
  wait: string;
  /** 0..100: how far along the line since the first position seen. */
  progress: number;
  /** What the status line says for an ended place. */
  ended: string;
}

/** Progress from the first (largest) position seen to the front: 0 on joining, 100 once released. */
export function progressOf(status: VisitorStatus, start: number): number {
  if (status.status === "released") return 100;
  if (status.status !== "waiting" || status.position === null) return 0;
  const from = Math.max(start, status.position);
  if (from <= 1) return 0;
  return Math.max(0, Math.min(100, Math.round((100 * (from - status.position)) / from)));
}

export function waitSentence(format: Formatter, seconds: number | null): string {
  if (seconds === null) return format.t("wait_unknown");
  if (seconds < 60) return format.t("wait_soon");
  return format.t("wait", { duration: format.duration(seconds) });
}

export function viewModel(format: Formatter, status: VisitorStatus, start: number): ViewModel {
  const waiting = status.status === "waiting" && status.position !== null;
  const position = waiting && status.position !== null ? format.num(status.position) : "";
  return {
    state: status.status,
    position,
    positionSentence: waiting ? format.t("position", { position }) : "",
    ahead: waiting
      ? format.plural("ahead", status.users_ahead ?? Math.max(0, (status.position ?? 1) - 1))
      : "",
    wait: waiting ? waitSentence(format, status.estimated_wait_seconds) : "",
    progress: progressOf(status, start),
    // The ended states' strings are named after them.
    ended: isTerminal(status.status) ? format.t(status.status) : "",
  };
}

/** Strings keyed flat, without a `visitor.` prefix: `{visitor: {a: "x"}, errors: {b: "y"}}` → `a`, `errors.b`. */
export function flatten(resource: Record<string, unknown>, prefix = ""): Strings {
  const out: Strings = {};
  for (const [key, value] of Object.entries(resource)) {
    const name = prefix === "" && key === "visitor" ? "" : `${prefix}${key}`;
    if (typeof value === "string") out[name.replace(/^visitor\./, "")] = value;
    else if (value !== null && typeof value === "object") {
      Object.assign(out, flatten(value as Record<string, unknown>, name === "" ? "" : `${name}.`));
    }
  }
  return out;
}
