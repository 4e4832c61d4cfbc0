import type { WorkerHeartbeatsTable } from "../schema.js";

export type WorkerHeartbeat = WorkerHeartbeatsTable;

/** Who a worker process is, as its heartbeat says. */
export type WorkerIdentity = Omit<WorkerHeartbeat, "last_seen_at">;

export interface WorkerHeartbeatRepository {
  /** Records that the worker is alive at `now` (one upsert: inserted on the first beat, updated after). */
  beat(worker: WorkerIdentity, now: string): Promise<void>;
  /** Every worker heard from, most recently seen first. */
  list(): Promise<WorkerHeartbeat[]>;
  /** Forgets workers last seen before `cutoff`; returns how many. */
  prune(cutoff: string): Promise<number>;
  /** Forgets one worker (it stopped cleanly: no worker_down alert for it). */
  remove(id: string): Promise<void>;
}
