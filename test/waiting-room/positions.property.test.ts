import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSite, type Harness, type JoinBody, join, startHarness, status } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

type Op =
  | { kind: "join"; visitor: number }
  | { kind: "cancel"; visitor: number }
  | { kind: "poll"; visitor: number }
  | { kind: "wait"; seconds: number }
  | { kind: "release" };

const visitor = fc.integer({ min: 0, max: 11 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: visitor.map((v) => ({ kind: "join" as const, visitor: v })) },
  { weight: 2, arbitrary: visitor.map((v) => ({ kind: "cancel" as const, visitor: v })) },
  { weight: 4, arbitrary: visitor.map((v) => ({ kind: "poll" as const, visitor: v })) },
  {
    weight: 2,
    arbitrary: fc.integer({ min: 5, max: 50 }).map((s) => ({ kind: "wait" as const, seconds: s })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "release" as const }) },
);

/** The reference model: an ordered list of who waits, and when each was last heard from. */
interface Model {
  waiting: string[];
  state: Map<string, "waiting" | "released" | "cancelled" | "expired">;
  lastSeen: Map<string, number>;
  tokens: Map<string, string>;
}

const ABANDON_SECONDS = 60;

describe("exact positions (property, against a reference model)", () => {
  it("position = 1 + visitors still waiting ahead, under random joins, cancels, abandonment and releases", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 40 }), async (ops) => {
        const site = await createSite(h, { max_users_per_minute: 2, abandon_after_seconds: ABANDON_SECONDS });
        const model: Model = { waiting: [], state: new Map(), lastSeen: new Map(), tokens: new Map() };
        const check = (id: string, body: JoinBody) => {
          const expected = model.state.get(id);
          expect(body.status, `status of ${id}`).toBe(expected);
          if (expected === "waiting") {
            expect(body.position, `position of ${id}`).toBe(model.waiting.indexOf(id) + 1);
            expect(body.queue_size).toBe(model.waiting.length);
          }
        };
        for (const step of ops) {
          const now = h.clock.now();
          if (step.kind === "join") {
            const id = `v${step.visitor}`;
            const current = model.state.get(id);
            if (current !== "waiting" && current !== "released") {
              model.waiting.push(id);
              model.state.set(id, "waiting");
            }
            if (model.state.get(id) === "waiting") model.lastSeen.set(id, now);
            const body = await join(h, site.apiKey, site.queueId, id);
            model.tokens.set(id, body.token);
            check(id, body);
          } else if (step.kind === "cancel" || step.kind === "poll") {
            const id = `v${step.visitor}`;
            const token = model.tokens.get(id);
            if (token === undefined) continue;
            if (step.kind === "cancel") {
              if (model.state.get(id) === "waiting") {
                model.waiting.splice(model.waiting.indexOf(id), 1);
                model.state.set(id, "cancelled");
              }
              const response = await h.app.inject({ method: "POST", url: `/cancel?token=${token}` });
              check(id, response.json<JoinBody>());
            } else {
              if (model.state.get(id) === "waiting") model.lastSeen.set(id, now);
              check(id, await status(h, token));
            }
          } else if (step.kind === "wait") {
            h.clock.advance(step.seconds * 1000);
            await h.room.engine.expire();
            const cutoff = h.clock.now() - ABANDON_SECONDS * 1000;
            for (const id of [...model.waiting]) {
              if ((model.lastSeen.get(id) ?? 0) < cutoff) {
                model.waiting.splice(model.waiting.indexOf(id), 1);
                model.state.set(id, "expired");
              }
            }
          } else {
            await h.room.engine.releaseDue();
            // Whoever the engine released must be the front of the line, in order.
            const released = await h.store.db
              .selectFrom("tickets")
              .select("visitor_id")
              .where("queue_id", "=", site.queueId)
              .where("status", "=", "released")
              .orderBy("seq") // a round may release several at once (a late round makes up what it missed)
              .execute();
            const newly = released
              .map((row) => row.visitor_id)
              .filter((id) => model.state.get(id) === "waiting");
            expect(newly).toEqual(model.waiting.slice(0, newly.length));
            for (const id of newly) {
              model.waiting.shift();
              model.state.set(id, "released");
            }
          }
        }
        for (const [id, token] of model.tokens) check(id, await status(h, token));
      }),
      { numRuns: 40 },
    );
  });
});
