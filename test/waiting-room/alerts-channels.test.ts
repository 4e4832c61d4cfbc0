import { afterEach, describe, expect, it } from "vitest";
import { EmailChannel, redact, WebhookChannel } from "../../src/worker/alerts/channels.js";
import { type AlertMessage, detectWebhookFormat, escapeHtml } from "../../src/worker/alerts/message.js";
import { createCallbackSender } from "../../src/worker/callbacks/sender.js";
import { Receiver } from "../helpers/receiver.js";
import { mailParts, SmtpReceiver } from "../helpers/smtp.js";

const PASS = "s3cret-smtp-pass";

const message: AlertMessage = {
  alertId: "al_1",
  kind: "queue_length",
  subject: "q_<b>sale</b>",
  applicationId: "app_1",
  event: "fired",
  at: Date.UTC(2026, 10, 28, 12, 0),
  details: { waiting: 250, threshold: 100 },
};

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

describe("alert e-mail", () => {
  it("reaches ADMIN_EMAIL and the application's recipients, with plain-text and escaped HTML bodies", async () => {
    const smtp = new SmtpReceiver({ user: "alerts", pass: PASS });
    const port = await smtp.start();
    const channel = new EmailChannel({
      host: "127.0.0.1",
      port,
      user: "alerts",
      pass: PASS,
      from: "anteroom@example.com",
      to: "ops@example.com",
    });
    stops.push(
      () => smtp.stop(),
      () => channel.close(),
    );
    await channel.send(message, ["sale@example.com", "ops@example.com"]);
    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0];
    expect(mail?.user).toBe("alerts");
    expect(mail?.from).toBe("anteroom@example.com");
    expect(mail?.to).toEqual(["ops@example.com", "sale@example.com"]);
    const parts = mailParts(mail?.raw ?? "");
    expect(parts.subject).toBe(
      "[Anteroom] FIRING: Queue q_<b>sale</b>: 250 visitors waiting (threshold 100)",
    );
    expect(parts.text).toContain("Queue q_<b>sale</b>: 250 visitors waiting");
    expect(parts.text).toContain("threshold: 100");
    expect(parts.html).toContain("Queue q_&lt;b&gt;sale&lt;/b&gt;: 250 visitors waiting");
    expect(parts.html).not.toContain("<b>sale");
    expect(parts.html).toContain('<th align="left">waiting</th><td>250</td>');
  });

  it("a failure throws without the password", async () => {
    const smtp = new SmtpReceiver({ user: "alerts", pass: "other" });
    const port = await smtp.start();
    const channel = new EmailChannel({
      host: "127.0.0.1",
      port,
      user: "alerts",
      pass: PASS,
      from: "a@example.com",
      to: "ops@example.com",
    });
    stops.push(
      () => smtp.stop(),
      () => channel.close(),
    );
    const error = await channel.send(message, []).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toContain("e-mail not sent");
    expect(JSON.stringify(error)).not.toContain(PASS);
    expect((error as Error).message).not.toContain(PASS);
  });
});

describe("alert webhook", () => {
  async function receive(format: "slack" | "teams" | "json"): Promise<unknown> {
    const receiver = new Receiver();
    const url = await receiver.start();
    const channel = new WebhookChannel(
      url,
      format,
      createCallbackSender({ allowPrivate: true, timeoutMs: 2_000 }),
    );
    stops.push(
      () => receiver.stop(),
      () => channel.close(),
    );
    await channel.send(message, []);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]?.headers["content-type"]).toBe("application/json");
    return JSON.parse(receiver.received[0]?.body ?? "null");
  }

  it("Slack: text and mrkdwn blocks, markup escaped", async () => {
    const body = (await receive("slack")) as {
      text: string;
      blocks: { type: string; text?: { type: string; text: string }; fields?: unknown[] }[];
    };
    expect(body.text).toBe(
      "[Anteroom] FIRING: Queue q_&lt;b&gt;sale&lt;/b&gt;: 250 visitors waiting (threshold 100)",
    );
    expect(body.blocks[0]?.type).toBe("section");
    expect(body.blocks[0]?.text?.type).toBe("mrkdwn");
    expect(body.blocks[0]?.text?.text).toContain("More visitors are waiting than the threshold");
    expect(body.blocks[1]?.fields).toContainEqual({ type: "mrkdwn", text: "*waiting*\n250" });
  });

  it("Teams: an Adaptive Card message", async () => {
    const body = (await receive("teams")) as {
      type: string;
      attachments: {
        contentType: string;
        content: {
          type: string;
          version: string;
          body: { type: string; text?: string; facts?: unknown[] }[];
        };
      }[];
    };
    expect(body.type).toBe("message");
    const card = body.attachments[0];
    expect(card?.contentType).toBe("application/vnd.microsoft.card.adaptive");
    expect(card?.content.type).toBe("AdaptiveCard");
    expect(card?.content.body[0]).toMatchObject({
      type: "TextBlock",
      text: expect.stringContaining("FIRING"),
    });
    expect(card?.content.body[2]?.facts).toContainEqual({ title: "threshold", value: "100" });
  });

  it("JSON: the alert as data", async () => {
    const body = (await receive("json")) as { alert: Record<string, unknown> };
    expect(body.alert).toMatchObject({
      id: "al_1",
      kind: "queue_length",
      event: "fired",
      details: { waiting: 250, threshold: 100 },
    });
  });

  it("a failure names the host, never the URL's token", async () => {
    const receiver = new Receiver();
    receiver.answer = () => 500;
    const url = `${await receiver.start()}/T000/B000/XXXXtokenXXXX`;
    const channel = new WebhookChannel(
      url,
      "slack",
      createCallbackSender({ allowPrivate: true, timeoutMs: 2_000 }),
    );
    stops.push(
      () => receiver.stop(),
      () => channel.close(),
    );
    const error = await channel.send(message).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error?.message).toContain("HTTP 500");
    expect(error?.message).not.toContain("XXXXtokenXXXX");
  });

  it("refuses a private address unless private callbacks are allowed", async () => {
    const channel = new WebhookChannel(
      "http://127.0.0.1:9/hook",
      "json",
      createCallbackSender({ allowPrivate: false, timeoutMs: 1_000 }),
    );
    stops.push(() => channel.close());
    await expect(channel.send(message)).rejects.toThrow(/webhook http:\/\/127\.0\.0\.1:9 \(json\) failed/);
  });
});

describe("formats and escaping", () => {
  it("detects the webhook format from the URL", () => {
    expect(detectWebhookFormat("https://hooks.slack.com/services/T/B/x", "auto")).toBe("slack");
    expect(detectWebhookFormat("https://contoso.webhook.office.com/webhookb2/x", "auto")).toBe("teams");
    expect(detectWebhookFormat("https://prod-01.westus.logic.azure.com:443/workflows/x", "auto")).toBe(
      "teams",
    );
    expect(detectWebhookFormat("https://example.com/hook", "auto")).toBe("json");
    expect(detectWebhookFormat("https://example.com/hook", "teams")).toBe("teams");
  });

  it("escapes HTML and redacts secrets", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    expect(redact("login failed for s3cret-smtp-pass", [PASS, undefined])).toBe("login failed for ***");
  });
});
