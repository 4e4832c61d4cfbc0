import type { Kysely } from "kysely";
import type { Database } from "../schema.js";
import type { WorkerHeartbeat, WorkerHeartbeatRepository, WorkerIdentity } from "../types.js";

export class KyselyWorkerHeartbeatRepository implements WorkerHeartbeatRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async beat(worker: WorkerIdentity, now: string): Promise<void> {
    await this.db
      .insertInto("worker_heartbeats")
      .values({ ...worker, last_seen_at: now })
      .onConflict((oc) =>
        oc.column("id").doUpdateSet({ last_seen_at: now, host: worker.host, pid: worker.pid }),
      )
      .execute();
  }

  async list(): Promise<WorkerHeartbeat[]> {
    return this.db
      .selectFrom("worker_heartbeats")
      .selectAll()
      .orderBy("last_seen_at", "desc")
      .orderBy("id")
      .execute();
  }

  async prune(cutoff: string): Promise<number> {
    const result = await this.db
      .deleteFrom("worker_heartbeats")
      .where("last_seen_at", "<", cutoff)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom("worker_heartbeats").where("id", "=", id).execute();
  }
}
