import { randomFillSync, randomUUID } from "node:crypto";
import type { PageRequest, Visibility } from "../types.js";
import { UniqueViolation } from "../types.js";

export const newId = (): string => randomUUID();

const entropy = Buffer.alloc(10);

/**
 * A UUIDv7 (RFC 9562): 48-bit millisecond timestamp, then random bits. For rows written at a high rate
 * (tickets, callbacks), time order keeps inserts at the right edge of the primary-key index instead of
 * scattering them across it, which cuts the pages each commit writes.
 */
export function newTimeOrderedId(now = Date.now()): string {
  randomFillSync(entropy);
  const hex = now.toString(16).padStart(12, "0") + entropy.toString("hex");
  const variant = ((Number.parseInt(hex[16] ?? "0", 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Most values (or rows) one statement binds from a list: SQLite binds at most 32,766 parameters a
 * statement and PostgreSQL 65,535, and a callback row alone takes 14. Longer lists go in several.
 */
const ROWS_PER_STATEMENT = 1000;

export function inChunks<T>(items: readonly T[], size = ROWS_PER_STATEMENT): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

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
