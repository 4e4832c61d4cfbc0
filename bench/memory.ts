// Memory cost of waiting visitors in the embedded hot index. Run by bench.ts as
//   node --expose-gc --import tsx bench/memory.ts [visitors]
// and prints one JSON line: the index's own accounting and the measured heap growth, both per visitor.
import { MemoryQueueIndex } from "../src/index/memory/memory-index.js";

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
const indexBytes = index.waitingMemoryBytes();
process.stdout.write(
  `${JSON.stringify({
    visitors,
    index_bytes: indexBytes,
    heap_delta_bytes: after - before,
    index_bytes_per_visitor: indexBytes / visitors,
    heap_bytes_per_visitor: (after - before) / visitors,
  })}\n`,
);
