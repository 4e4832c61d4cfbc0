// Memory per waiting visitor and per ended ticket, measured by bench/memory.ts in a fresh
// `node --expose-gc` process so the servers' and autocannon's heaps do not blur it.
import { awaitExit, childEnv, startChild } from "./processes.js";

export interface MemoryFigures {
  visitors: number;
  index_bytes_per_visitor: number;
  heap_bytes_per_visitor: number;
  /** Mean time of one status lookup in the index with 10,000 and with `visitors` waiting (embedded only). */
  lookup_ns?: { small: number; full: number };
  /** Ended tickets in the in-process index after as many join -> cancel as `visitors` (embedded only). */
  ended?: EndedFigures;
}

export interface EndedFigures {
  tickets: number;
  /** Heap + external growth per ticket with the cap lifted: what the representation costs. */
  bytes_per_ticket: number;
  /** The default per-queue cap, and what the queue held and grew by under it after the same loop. */
  cap: number;
  held_capped: number;
  bytes_capped: number;
}

const isNumber = (value: unknown): value is number => typeof value === "number";

function endedFigures(parsed: object): EndedFigures | undefined {
  const get = (key: string): unknown => (key in parsed ? Reflect.get(parsed, key) : undefined);
  const [tickets, perTicket, cap, held, capped] = [
    get("ended_tickets"),
    get("ended_bytes_per_ticket"),
    get("ended_cap"),
    get("ended_held_capped"),
    get("ended_bytes_capped"),
  ];
  if (!isNumber(tickets) || !isNumber(perTicket) || !isNumber(cap) || !isNumber(held) || !isNumber(capped)) {
    return undefined;
  }
  return { tickets, bytes_per_ticket: perTicket, cap, held_capped: held, bytes_capped: capped };
}

export async function measureMemory(visitors: number): Promise<MemoryFigures> {
  const child = startChild(
    "memory probe",
    ["--expose-gc", "--import", "tsx", "bench/memory.ts", String(visitors)],
    childEnv({}),
  );
  let stdout = "";
  child.process.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  const how = await awaitExit(child, 120_000);
  const last = stdout.trim().split("\n").pop() ?? "";
  if (how !== "exit code 0") throw new Error(`memory probe failed (${how}):\n${child.tail()}`);
  const parsed: unknown = JSON.parse(last);
  if (
    typeof parsed !== "object" ||
    parsed === null ||
    !("index_bytes_per_visitor" in parsed) ||
    !("heap_bytes_per_visitor" in parsed) ||
    typeof parsed.index_bytes_per_visitor !== "number" ||
    typeof parsed.heap_bytes_per_visitor !== "number"
  ) {
    throw new Error(`memory probe printed something unexpected: ${last}`);
  }
  const lookups =
    "lookup_ns_small" in parsed &&
    "lookup_ns_full" in parsed &&
    typeof parsed.lookup_ns_small === "number" &&
    typeof parsed.lookup_ns_full === "number"
      ? { small: parsed.lookup_ns_small, full: parsed.lookup_ns_full }
      : undefined;
  const ended = endedFigures(parsed);
  if (ended === undefined) throw new Error(`memory probe printed no ended-ticket figures: ${last}`);
  return {
    visitors,
    index_bytes_per_visitor: parsed.index_bytes_per_visitor,
    heap_bytes_per_visitor: parsed.heap_bytes_per_visitor,
    ...(lookups === undefined ? {} : { lookup_ns: lookups }),
    ended,
  };
}
