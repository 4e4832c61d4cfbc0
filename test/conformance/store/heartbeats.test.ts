import { describe, expect, it } from "vitest";
import { dialects, useStore } from "./dialects.js";
import { at } from "./fixtures.js";

describe.each(dialects)("Store conformance, worker heartbeats: $name", (dialect) => {
  const t = useStore(dialect);
  const worker = (id: string) => ({ id, host: `host-${id}`, pid: 100, started_at: at() });

  it("inserts on the first beat, updates after, lists most recent first", async () => {
    const { heartbeats } = t.store;
    expect(await heartbeats.list()).toEqual([]);
    await heartbeats.beat(worker("a"), at(1000));
    await heartbeats.beat(worker("b"), at(2000));
    await heartbeats.beat({ ...worker("a"), pid: 101 }, at(3000));
    expect(await heartbeats.list()).toEqual([
      { id: "a", host: "host-a", pid: 101, started_at: at(), last_seen_at: at(3000) },
      { id: "b", host: "host-b", pid: 100, started_at: at(), last_seen_at: at(2000) },
    ]);
  });

  it("prunes workers last seen before the cutoff", async () => {
    const { heartbeats } = t.store;
    await heartbeats.beat(worker("old"), at(1000));
    await heartbeats.beat(worker("new"), at(5000));
    expect(await heartbeats.prune(at(5000))).toBe(1);
    expect((await heartbeats.list()).map((row) => row.id)).toEqual(["new"]);
    expect(await heartbeats.prune(at(5000))).toBe(0);
  });
});
