import { type Static, type TSchema, Type } from "typebox";

/** Schemas shared by several routes; each route file holds its own request and response shapes. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: "stable, machine-readable error code" }),
      message: Type.String(),
      request_id: Type.String(),
      field: Type.Optional(Type.String({ description: "the offending field, for validation errors" })),
    }),
  },
  { $id: "ErrorBody" },
);

/**
 * An id: a UUID as this service writes them (lowercase, hyphenated). Stricter than the `uuid` format,
 * which also admits `urn:uuid:` and uppercase forms the two databases would treat differently.
 */
export const Uuid = (description?: string) =>
  Type.String({
    // Ajv checks the length before the pattern, so an over-long value costs nothing.
    maxLength: 36,
    pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    ...(description === undefined ? {} : { description }),
  });

/** Free text (names): no control characters, which PostgreSQL would refuse (NUL) or logs would mangle. */
export const Text = (minLength: number, maxLength: number) =>
  Type.String({ minLength, maxLength, pattern: "^[^\\u0000-\\u001f\\u007f]*$" });

export const IdParams = Type.Object({ id: Uuid() }, { additionalProperties: false });
export type IdParams = Static<typeof IdParams>;

export const PageQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  offset: Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 }),
});

export const Instant = Type.String({ format: "date-time", maxLength: 64 });

export function PageOf<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), total: Type.Integer({ minimum: 0 }) });
}

/** The error responses a route can give, referencing the shared body, for OpenAPI. */
export function errorResponses(...statuses: number[]): Record<number, { $ref: string }> {
  return Object.fromEntries(statuses.map((status) => [status, { $ref: "ErrorBody#" }]));
}

/**
 * A nullable integer or number as a plain `type: [...]`, not anyOf: the response serializer picks an
 * anyOf branch by validating each value, which costs on the hot path and on long series.
 */
export const NullableInteger = (options: { description?: string; minimum?: number } | string = {}) =>
  Type.Unsafe<number | null>({
    type: ["integer", "null"],
    ...(typeof options === "string" ? { description: options } : options),
  });

export const NullableNumber = (options: { description?: string; minimum?: number; maximum?: number } = {}) =>
  Type.Unsafe<number | null>({ type: ["number", "null"], ...options });
