import type { Values, VariableName } from "./schema.js";

/**
 * A rule across variables. It runs only when every variable it uses read cleanly, so one bad value is
 * reported once, under its own name, and not again as a consequence.
 */
export interface Rule {
  uses: readonly VariableName[];
  problem(values: Values): string | undefined;
}

const postgres = (values: Values): boolean => values.DB_URL?.kind === "postgres";

export const RULES: readonly Rule[] = [
  {
    uses: ["SECRET_KEY_PREVIOUS", "SECRET_KEY"],
    problem: (v) =>
      v.SECRET_KEY_PREVIOUS !== undefined && v.SECRET_KEY === undefined
        ? "SECRET_KEY_PREVIOUS is set but SECRET_KEY is not: set the new key in SECRET_KEY"
        : undefined,
  },
  {
    uses: ["SECRET_KEY_PREVIOUS", "SECRET_KEY"],
    problem: (v) =>
      v.SECRET_KEY_PREVIOUS !== undefined && v.SECRET_KEY_PREVIOUS === v.SECRET_KEY
        ? "SECRET_KEY_PREVIOUS must differ from SECRET_KEY"
        : undefined,
  },
  {
    uses: ["ADMIN_PASSWORD", "ADMIN_EMAIL"],
    problem: (v) =>
      v.ADMIN_PASSWORD !== undefined && v.ADMIN_EMAIL === undefined
        ? "ADMIN_PASSWORD is set but ADMIN_EMAIL is not: both are needed to create the first admin"
        : undefined,
  },
  {
    uses: ["METRICS_PORT", "PORT"],
    problem: (v) =>
      v.METRICS_PORT !== undefined && v.METRICS_PORT === v.PORT
        ? "METRICS_PORT must differ from PORT (it keeps /metrics off the public port)"
        : undefined,
  },
  // Several API processes answer status polls from one shared index, and verify one another's tokens.
  {
    uses: ["DB_URL", "REDIS_URL"],
    problem: (v) =>
      postgres(v) && v.REDIS_URL === undefined
        ? "REDIS_URL is required with a PostgreSQL DB_URL: API processes share the hot index in Redis (embedded mode keeps it in process)"
        : undefined,
  },
  {
    uses: ["DB_URL", "SECRET_KEY"],
    problem: (v) =>
      postgres(v) && v.SECRET_KEY === undefined
        ? "SECRET_KEY is required with a PostgreSQL DB_URL: every process must sign and verify with the same key"
        : undefined,
  },
];
