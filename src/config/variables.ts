import { isIP } from "node:net";
import { type Static, type TSchema, Type } from "typebox";
import { Value } from "typebox/value";
import type { Env } from "./types.js";

/**
 * One environment variable, declared once: how its text becomes a value, what a good value is (a TypeBox
 * schema), its default, the message when it is wrong, and its documentation (README table, .env.example).
 */
export interface Variable<T> {
  /** Heading it is listed under in .env.example. */
  readonly group: string;
  /** One line of documentation (Markdown). */
  readonly doc: string;
  /** The README's Default column (Markdown). */
  readonly shown: string;
  /** Written uncommented in .env.example; undefined leaves `# NAME=` commented out. */
  readonly example: string | undefined;
  /** A value to show, commented out, when there is no default to write. */
  readonly sample: string | undefined;
  /** The trimmed, non-empty text → the candidate value the schema checks. */
  readonly convert: (raw: string) => unknown;
  readonly schema: TSchema;
  /** Completes "NAME must be …". */
  readonly expected: string;
  /** The value when unset (or empty). */
  readonly fallback: T;
  /** Never repeat the value in a message (keys, passwords, URLs that may carry one). */
  readonly secret: boolean;
}

/** What every declaration says about itself; `shown` and `example` default to the fallback. */
export interface About {
  group: string;
  doc: string;
  shown?: string;
  example?: string;
  sample?: string;
  secret?: boolean;
}

type Spec<S extends TSchema, F> = About & {
  schema: S;
  fallback: F;
  expected: string;
  convert?: (raw: string) => unknown;
};

export function variable<S extends TSchema, F extends Static<S> | undefined>(
  spec: Spec<S, F>,
): Variable<Static<S> | F> {
  const fallback = spec.fallback === undefined ? undefined : String(spec.fallback);
  return {
    group: spec.group,
    doc: spec.doc,
    shown: spec.shown ?? (fallback === undefined ? "unset" : `\`${fallback}\``),
    example: spec.example ?? fallback,
    sample: spec.sample,
    convert: spec.convert ?? ((raw) => raw),
    schema: spec.schema,
    expected: spec.expected,
    fallback: spec.fallback,
    secret: spec.secret ?? false,
  };
}

const digits = (raw: string): unknown => (/^\d+$/.test(raw) ? Number(raw) : raw);

export function integer<F extends number | undefined>(
  about: About,
  range: { min: number; max: number; fallback: F },
) {
  return variable({
    ...about,
    schema: Type.Integer({ minimum: range.min, maximum: range.max }),
    fallback: range.fallback,
    expected: `an integer from ${range.min} to ${range.max}`,
    convert: digits,
  });
}

/** A rate limit: 0 turns it off, else an integer from min to a million. */
export function limit(about: About, min: number, fallback: number) {
  const max = 1_000_000;
  return variable({
    ...about,
    schema: Type.Union([Type.Literal(0), Type.Integer({ minimum: min, maximum: max })]),
    fallback,
    expected: `0 (no limit) or an integer from ${min} to ${max}`,
    convert: digits,
  });
}

const TRUE_WORDS = ["1", "true", "yes", "on"];
const FALSE_WORDS = ["0", "false", "no", "off"];

export function flag(about: About) {
  return variable({
    ...about,
    schema: Type.Boolean(),
    fallback: false,
    expected: "true or false",
    convert: (raw) => {
      const word = raw.toLowerCase();
      return TRUE_WORDS.includes(word) ? true : FALSE_WORDS.includes(word) ? false : raw;
    },
  });
}

/** One of a few words, case-insensitively. */
export function choice<const V extends string>(about: About, values: readonly V[], fallback: V) {
  return variable({
    ...about,
    schema: Type.Enum([...values]),
    fallback,
    expected: `one of ${values.join(", ")}`,
    convert: (raw) => raw.toLowerCase(),
  });
}

/** Free text, unset by default; optionally a minimum length and a further check. */
export function text(
  about: About,
  rules: { minLength?: number; hint?: string; check?: (value: string) => boolean; expected?: string } = {},
) {
  const { minLength = 0, hint, check } = rules;
  const base = Type.String({ minLength });
  return variable({
    ...about,
    schema: check === undefined ? base : Type.Refine(base, check),
    fallback: undefined,
    expected: rules.expected ?? `at least ${minLength} characters${hint === undefined ? "" : ` (${hint})`}`,
  });
}

function hasProtocol(raw: string, protocols: readonly string[]): boolean {
  try {
    return protocols.includes(new URL(raw).protocol);
  } catch {
    return false;
  }
}

/** An absolute URL with one of the given protocols ("redis:"), unset by default. */
export function url(about: About, protocols: readonly string[], convert?: (raw: string) => string) {
  return variable({
    ...about,
    schema: Type.Refine(Type.String(), (value) => hasProtocol(value, protocols)),
    fallback: undefined,
    expected: `a URL starting with ${protocols.map((protocol) => `${protocol}//`).join(" or ")}`,
    ...(convert === undefined ? {} : { convert }),
  });
}

/** Proxy addresses or CIDRs, comma-separated (only the address part of a CIDR is checked). */
export const isAddressList = (value: string): boolean =>
  value.split(",").every((entry) => isIP(entry.split("/")[0] ?? "") !== 0);

/** Long values (a pasted file) are cut in messages: the variable's name says enough. */
function quote(raw: string): string {
  return JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw);
}

/** Reads one variable: its value, or its fallback and a problem naming it. */
export function read<T>(env: Env, name: string, declared: Variable<T>): { value: T; problem?: string } {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return { value: declared.fallback };
  const candidate = declared.convert(raw);
  if (Value.Check(declared.schema, candidate)) return { value: candidate as T };
  const got = declared.secret ? "" : ` (got ${quote(raw)})`;
  return { value: declared.fallback, problem: `${name} must be ${declared.expected}${got}` };
}
