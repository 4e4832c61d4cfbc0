import { Writable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Alerter, type AlertSettings } from "../../src/worker/alerts/alerter.js";
import { type AlertChannel, EmailChannel, WebhookChannel } from "../../src/worker/alerts/channels.js";
import { createCallbackSender } from "../../src/worker/callbacks/sender.js";
import { createSite, type Harness, join, startHarness } from "../helpers/harness.js";
import { Receiver } from "../helpers/receiver.js";
import { mailParts, SmtpReceiver } from "../helpers/smtp.js";

const PASS = "smtp-pass-never-logged";
const TOKEN = "T0SECRET/B0SECRET/never-logged-token";

let h: Harness;
let receiver: Receiver;
let hookUrl: string;
let smtp: SmtpReceiver;
let smtpPort: number;
const alerters: Alerter[] = [];
const logLines: string[] = [];

beforeAll(async () => {
  h = await startHarness();
  receiver = new Receiver();
  hookUrl = `${await receiver.start()}/${TOKEN}`;
  smtp = new SmtpReceiver({ user: "alerts", pass: PASS });
  smtpPort = await smtp.start();
});

afterAll(async () => {
  for (const alerter of alerters) await alerter.close();
  await receiver.stop();
  await smtp.stop();
  await h.close();
});

beforeEach(async () => {
  receiver.received.length = 0;
  receiver.answer = () => 200;
  smtp.mails.length = 0;
  logLines.length = 0;
  await h.store.db.deleteFrom("alert_notifications").execute();
  await h.store.db.deleteFrom("alerts").execute();
  await h.store.db.deleteFrom("worker_heartbeats").execute();
});

const capture = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logLines.push(chunk.toString());
    done();
  },
});

function webhook(format: "slack" | "teams" = "slack"): AlertChannel {
  return new WebhookChannel(hookUrl, format, createCallbackSender({ allowPrivate: true, timeoutMs: 2_000 }));
}

function email(pass = PASS): AlertChannel {
  return new EmailChannel({
    host: "127.0.0.1",
    port: smtpPort,
    user: "alerts",
    pass,
    from: "anteroom@example.com",
    to: "ops@example.com",
  });
}

/** A worker's alert task over the harness's record, index and queues. */
function alerter(channels: AlertChannel[], settings: Partial<AlertSettings> = {}): Alerter {
  const made = new Alerter({
    store: h.store,
    index: h.room.index,
    queues: h.room.queues,
    channels,
    clock: h.clock,
    logger: pino({ level: "debug" }, capture),
    settings: { defaultThreshold: 2, ...settings },
    random: () => 0,
  });
  alerters.push(made);
  return made;
}

async function siteWith(visitors: number, perMinute = 60): Promise<{ appId: string; queueId: string }> {
  const site = await createSite(h, { name: `Q${Math.random()}`, max_users_per_minute: perMinute });
  for (let i = 0; i < visitors; i++) await join(h, site.apiKey, site.queueId, `v${i}-${Math.random()}`);
  return site;
}

async function evaluateAll(workers: Alerter[]) {
  const outcomes = await Promise.all(workers.map((w) => w.evaluate()));
  return {
    fired: outcomes.reduce((n, o) => n + o.fired, 0),
    resolved: outcomes.reduce((n, o) => n + o.resolved, 0),
  };
}

describe("alert worker task", () => {
  it("three workers on one record raise one alert and send one notification; resolve once; cooldown", async () => {
    const workers = [alerter([webhook("slack")]), alerter([webhook("slack")]), alerter([webhook("slack")])];
    // One a minute: the line may stand still for three minutes before its release counts as stalled.
    const { appId, queueId } = await siteWith(3, 1);

    expect(await evaluateAll(workers)).toEqual({ fired: 1, resolved: 0 });
    expect(await evaluateAll(workers)).toEqual({ fired: 0, resolved: 0 });
    const sent = await Promise.all(workers.map((w) => w.deliver()));
    expect(sent.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await Promise.all(workers.map((w) => w.deliver()))).toEqual([0, 0, 0]);
    expect(receiver.received).toHaveLength(1);
    const fired = JSON.parse(receiver.received[0]?.body ?? "{}") as { text: string };
    expect(fired.text).toContain(`FIRING: Queue ${queueId}: 3 visitors waiting (threshold 2)`);

    // The queue's own threshold clears the condition: resolved once.
    await h.store.alerts.setThreshold(queueId, 10);
    h.clock.advance(10_000);
    expect(await evaluateAll(workers)).toEqual({ fired: 0, resolved: 1 });
    await Promise.all(workers.map((w) => w.deliver()));
    expect(receiver.received).toHaveLength(2);
    expect((JSON.parse(receiver.received[1]?.body ?? "{}") as { text: string }).text).toContain("RESOLVED");

    // Back above within the cooldown: quiet; after it: fires again.
    await h.store.alerts.setThreshold(queueId, 1);
    h.clock.advance(60_000);
    expect(await evaluateAll(workers)).toEqual({ fired: 0, resolved: 0 });
    h.clock.advance(900_000);
    await evaluateAll(workers);
    const history = await h.store.alerts.list(
      { visible: "all", applicationId: appId },
      { limit: 10, offset: 0 },
    );
    // By now the line has also stood still for fifteen minutes: the release has stalled too.
    expect(history.items.map((a) => [a.kind, a.state]).sort()).toEqual([
      ["queue_length", "firing"],
      ["queue_length", "resolved"],
      ["release_stalled", "firing"],
    ]);
    await h.store.alerts.setThreshold(queueId, 1000);
  });

  it("e-mails ADMIN_EMAIL and the application's recipients", async () => {
    const worker = alerter([email()]);
    const { appId, queueId } = await siteWith(3);
    await h.store.alerts.setRecipients(appId, ["sale@example.com"]);
    await worker.evaluate();
    expect(await worker.deliver()).toBe(1);
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]?.to).toEqual(["ops@example.com", "sale@example.com"]);
    const parts = mailParts(smtp.mails[0]?.raw ?? "");
    expect(parts.subject).toContain(`FIRING: Queue ${queueId}`);
    expect(parts.text).toContain("threshold: 2");
    expect(parts.html).toContain('<th align="left">waiting</th><td>3</td>');
    await h.store.alerts.setThreshold(queueId, 1000);
  });

  it("retries a failed notification with backoff, and never logs a credential", async () => {
    const worker = alerter([webhook("teams"), email("wrong-password-but-secret")], { retryBaseMs: 4_000 });
    const { queueId } = await siteWith(3);
    receiver.answer = (n) => (n === 1 ? 500 : 200);
    await worker.evaluate();
    // The webhook fails once (HTTP 500), the e-mail every time (a wrong password).
    expect(await worker.deliver()).toBe(0);
    expect(await worker.deliver()).toBe(0);
    h.clock.advance(2_000); // half the base delay: "equal jitter" with random() = 0
    expect(await worker.deliver()).toBe(1);
    expect(receiver.received).toHaveLength(2);
    const card = JSON.parse(receiver.received[1]?.body ?? "{}") as { attachments: { contentType: string }[] };
    expect(card.attachments[0]?.contentType).toBe("application/vnd.microsoft.card.adaptive");
    const rows = await h.store.db.selectFrom("alert_notifications").selectAll().orderBy("channel").execute();
    expect(rows.map((r) => [r.channel, r.status, r.attempts])).toEqual([
      ["email", "pending", 2],
      ["webhook", "sent", 2],
    ]);
    const logs = logLines.join("");
    expect(logs).toContain("will retry");
    expect(logs).toContain("e-mail not sent");
    expect(logs).not.toContain("wrong-password-but-secret");
    expect(logs).not.toContain("never-logged-token");
    expect(logs).not.toContain("B0SECRET");
    await h.store.alerts.setThreshold(queueId, 1000);
  });

  it("release stalled: visitors waiting and the line not moving for three release intervals", async () => {
    const worker = alerter([], { defaultThreshold: 1000 });
    const { queueId } = await siteWith(2);
    await h.store.db.updateTable("queues").set({ alert_threshold: null }).where("id", "=", queueId).execute();
    expect(await worker.evaluate()).toEqual({ fired: 0, resolved: 0 });
    h.clock.advance(2_000);
    expect(await worker.evaluate()).toEqual({ fired: 0, resolved: 0 });
    h.clock.advance(1_000); // 60 a minute: three intervals are 3 s
    const stalled = await worker.evaluate();
    expect(stalled.fired).toBeGreaterThanOrEqual(1);
    const firing = await h.store.alerts.list({ visible: "all", state: "firing" }, { limit: 50, offset: 0 });
    expect(firing.items.filter((a) => a.subject === queueId).map((a) => a.kind)).toEqual(["release_stalled"]);
    // The worker releases: the line moves, the alert resolves.
    await h.room.engine.releaseDue();
    const after = await worker.evaluate();
    expect(after.resolved).toBeGreaterThanOrEqual(1);
    const resolved = await h.store.alerts.list(
      { visible: "all", state: "resolved" },
      { limit: 50, offset: 0 },
    );
    expect(resolved.items.some((a) => a.subject === queueId && a.kind === "release_stalled")).toBe(true);
  });

  it("worker_down: a heartbeat silent for 61 s raises one alert and one notification; a beat resolves it", async () => {
    const workers = [alerter([webhook("slack")], { defaultThreshold: 1000 }), alerter([webhook("slack")])];
    const identity = {
      id: "worker-silent",
      host: "h1",
      pid: 42,
      started_at: new Date(h.clock.now()).toISOString(),
    };
    await h.store.heartbeats.beat(identity, new Date(h.clock.now()).toISOString());
    h.clock.advance(60_000);
    expect((await evaluateAll(workers)).fired).toBe(0);
    h.clock.advance(1_000);
    expect(await evaluateAll(workers)).toEqual({ fired: 1, resolved: 0 });
    expect(await evaluateAll(workers)).toEqual({ fired: 0, resolved: 0 });
    const sent = await Promise.all(workers.map((w) => w.deliver()));
    expect(sent.reduce((a, b) => a + b, 0)).toBe(1);
    expect(receiver.received).toHaveLength(1);
    const text = (JSON.parse(receiver.received[0]?.body ?? "{}") as { text: string }).text;
    expect(text).toContain("FIRING: Worker worker-silent: no heartbeat for 61 s");
    // A system alert: no application, so only admins see it.
    const firing = await h.store.alerts.list({ visible: "all", state: "firing" }, { limit: 50, offset: 0 });
    expect(
      firing.items.filter((a) => a.kind === "worker_down").map((a) => [a.subject, a.application_id]),
    ).toEqual([["worker-silent", null]]);

    // It beats again: resolved once.
    await h.store.heartbeats.beat(identity, new Date(h.clock.now()).toISOString());
    expect(await evaluateAll(workers)).toEqual({ fired: 0, resolved: 1 });
    await Promise.all(workers.map((w) => w.deliver()));
    expect(receiver.received).toHaveLength(2);
    expect((JSON.parse(receiver.received[1]?.body ?? "{}") as { text: string }).text).toContain("RESOLVED");

    // A worker that stops cleanly removes its heartbeat: no alert.
    await h.store.heartbeats.remove(identity.id);
    h.clock.advance(120_000);
    expect(await evaluateAll(workers)).toEqual({ fired: 0, resolved: 0 });
  });

  it("index_down after 30 s of failed checks (recorded, admins only); record_down straight to the channels", async () => {
    let indexUp = false;
    let recordUp = true;
    const made = new Alerter({
      store: h.store,
      index: h.room.index,
      queues: h.room.queues,
      channels: [webhook("slack")],
      clock: h.clock,
      logger: pino({ level: "debug" }, capture),
      settings: { defaultThreshold: 1000 },
      health: {
        index: async () => {
          if (!indexUp) throw new Error("index unreachable");
        },
        record: async () => {
          if (!recordUp) throw new Error("record unreachable");
        },
      },
    });
    alerters.push(made);
    expect(await made.evaluate()).toEqual({ fired: 0, resolved: 0 });
    h.clock.advance(29_000);
    expect(await made.evaluate()).toEqual({ fired: 0, resolved: 0 });
    h.clock.advance(1_000);
    expect(await made.evaluate()).toEqual({ fired: 1, resolved: 0 });
    expect(await made.deliver()).toBe(1);
    expect((JSON.parse(receiver.received[0]?.body ?? "{}") as { text: string }).text).toContain(
      "FIRING: The hot index has been unreachable for 30 s",
    );
    indexUp = true;
    expect(await made.evaluate()).toEqual({ fired: 0, resolved: 1 });

    // The record down: nothing recorded, the alert goes straight to the channels, once, then its resolution.
    recordUp = false;
    expect(await made.evaluate()).toEqual({ fired: 0, resolved: 0 });
    h.clock.advance(30_000);
    expect(await made.evaluate()).toEqual({ fired: 0, resolved: 0 });
    expect(await made.evaluate()).toEqual({ fired: 0, resolved: 0 });
    expect(receiver.received).toHaveLength(2);
    expect((JSON.parse(receiver.received[1]?.body ?? "{}") as { text: string }).text).toContain(
      "FIRING: The record (database) has been unreachable for 30 s",
    );
    recordUp = true;
    await made.evaluate();
    expect(receiver.received).toHaveLength(3);
    expect((JSON.parse(receiver.received[2]?.body ?? "{}") as { text: string }).text).toContain("RESOLVED");
    const kinds = await h.store.db.selectFrom("alerts").select(["kind", "state", "application_id"]).execute();
    expect(kinds).toEqual([{ kind: "index_down", state: "resolved", application_id: null }]);
  });
});
