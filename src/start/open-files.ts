import { readFileSync } from "node:fs";

/**
 * The process's open-files limit (the soft RLIMIT_NOFILE, which Node raises to the hard limit at start),
 * from Linux's /proc/self/limits; undefined elsewhere or when it is unlimited or unreadable.
 */
export function openFilesLimit(limitsFile = "/proc/self/limits"): number | undefined {
  let text: string;
  try {
    text = readFileSync(limitsFile, "utf8");
  } catch {
    return undefined;
  }
  const line = text.split("\n").find((entry) => entry.startsWith("Max open files"));
  const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
  if (soft === undefined || !/^\d{1,10}$/.test(soft)) return undefined;
  return Number(soft);
}

/**
 * How many live-update streams one API process may hold: all but 1,024 of its open files (kept for the
 * record, Redis, the worker's sockets and ordinary requests), and never more than half of a small limit.
 */
export function streamCapacity(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  return Math.max(Math.floor(limit / 2), limit - 1024);
}
