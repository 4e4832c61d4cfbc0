// Memory cost of waiting visitors and of ended tickets in the embedded hot index. Run by bench.ts as
//   node --expose-gc --import tsx bench/memory.ts [visitors]
// and prints one JSON line: the index's own accounting and the measured heap growth, both per visitor, and
// the measured growth per ended ticket after as many join -> cancel.
import { MemoryQueueIndex } from "../src/index/memory/memory-index.js";
import { ENDED_CAP_PER_QUEUE } from "../src/index/types.js";

const gc = globalThis.gc;
if (gc === undefined) {
  process.stderr.write("memory.ts needs node --expose-gc\n");
  process.exit(2);
}
const collect: () => void = gc;

const visitors = Number(process.argv[2] ?? 1_000_000);
if (!Number.isInteger(visitors) || visitors < 1) {
  process.stderr.write(`visitor count must be a positive integer, got ${process.argv[2]}\n`);
  process.exit(2);
}

/** Live JS heap plus memory outside it (typed-array backing stores live there). */
function used(): number {
  for (let i = 0; i < 3; i++) collect();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

const queueId = "00000000-0000-4000-8000-000000000001";
const now = Date.now();
const index = new MemoryQueueIndex();
// Create the queue's state first so the fixed per-queue cost is not charged to the visitors.
await index.addWaiting(queueId, [], now);

const before = used();
const BATCH = 10_000; // a real join batch is at most 500; the batch arrays are garbage by the second reading
for (let start = 1; start <= visitors; start += BATCH) {
  const seqs: number[] = [];
  for (let seq = start; seq < start + BATCH && seq <= visitors; seq++) seqs.push(seq);
  await index.addWaiting(queueId, seqs, now);
}
const after = used();

const waiting = await index.waitingCount(queueId);
if (waiting !== visitors) {
  process.stderr.write(`expected ${visitors} waiting, the index holds ${waiting}\n`);
  process.exit(1);
}
/**
 * Time of one status lookup (rank, size, heartbeat) in the index, averaged over random waiting visitors:
 * the same at `visitors` waiting as in a small queue, or the index would slow down as the line grows.
 */
function lookupNs(queue: string, size: number): number {
  const probes = 200_000;
  let seed = 12345;
  const seqs = new Float64Array(probes);
  for (let i = 0; i < probes; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    seqs[i] = 1 + (seed % size);
  }
  const at = Date.now();
  for (let i = 0; i < 20_000; i++) index.pollNow(queue, seqs[i] ?? 1, at); // warm-up
  const started = process.hrtime.bigint();
  for (let i = 0; i < probes; i++) index.pollNow(queue, seqs[i] ?? 1, at);
  return Number(process.hrtime.bigint() - started) / probes;
}
const smallQueue = "00000000-0000-4000-8000-000000000002";
const small = 10_000;
await index.addWaiting(
  smallQueue,
  Array.from({ length: small }, (_, i) => i + 1),
  now,
);
const lookupSmall = lookupNs(smallQueue, small);
const lookupFull = lookupNs(queueId, visitors);
await index.drop(smallQueue);

const indexBytes = index.waitingMemoryBytes();
await index.drop(queueId);

/**
 * Heap + external growth while `tickets` visitors join a fresh queue and cancel (batch by batch, so the
 * line stays nearly empty), before any pruning; returns the growth and the ended entries then held.
 */
async function joinCancelGrowth(ended: MemoryQueueIndex, tickets: number) {
  const queue = "00000000-0000-4000-8000-000000000003";
  await ended.addWaiting(queue, [], now);
  const start = used();
  for (let first = 1; first <= tickets; first += BATCH) {
    const seqs: number[] = [];
    for (let seq = first; seq < first + BATCH && seq <= tickets; seq++) seqs.push(seq);
    await ended.addWaiting(queue, seqs, now);
    await ended.end(queue, seqs, "cancelled", now);
  }
  const growth = used() - start;
  const held = (await ended.heldCounts(queue)).ended;
  await ended.drop(queue);
  return { growth, held };
}
// The cap lifted, so every ticket is held: what the representation itself costs per ended ticket.
const uncapped = await joinCancelGrowth(new MemoryQueueIndex({ endedCap: visitors }), visitors);
if (uncapped.held !== visitors) {
  process.stderr.write(`expected ${visitors} ended entries held, the index holds ${uncapped.held}\n`);
  process.exit(1);
}
// The default cap: what a queue's ended tickets can cost at most, however many end.
const capped = await joinCancelGrowth(new MemoryQueueIndex(), visitors);

process.stdout.write(
  `${JSON.stringify({
    visitors,
    index_bytes: indexBytes,
    heap_delta_bytes: after - before,
    index_bytes_per_visitor: indexBytes / visitors,
    heap_bytes_per_visitor: (after - before) / visitors,
    lookup_ns_small: lookupSmall,
    lookup_ns_full: lookupFull,
    ended_tickets: visitors,
    ended_bytes_per_ticket: uncapped.growth / visitors,
    ended_cap: ENDED_CAP_PER_QUEUE,
    ended_held_capped: capped.held,
    ended_bytes_capped: capped.growth,
  })}\n`,
);
