import { randomUUID } from "node:crypto";
import type { PageRequest, Visibility } from "../types.js";
import { UniqueViolation } from "../types.js";

export const newId = (): string => randomUUID();

/** Maps a driver's unique-constraint error (SQLite or PostgreSQL) to a UniqueViolation; rethrows others. */
export function rethrowUnique(error: unknown, constraint: string): never {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "23505") {
    throw new UniqueViolation(constraint);
  }
  throw error;
}

/** An empty grant list can see nothing; SQL `IN ()` is invalid, so callers short-circuit on this. */
export function seesNothing(visible: Visibility): boolean {
  return visible !== "all" && visible.length === 0;
}

export function clampPage(page: PageRequest): PageRequest {
  return { limit: Math.max(1, Math.min(page.limit, 500)), offset: Math.max(0, page.offset) };
}

export function countOf(row: { count: string | number | bigint } | undefined): number {
  return row === undefined ? 0 : Number(row.count);
}
