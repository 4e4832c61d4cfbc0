import { createTransport, type Transporter } from "nodemailer";
import type { CallbackSender } from "../callbacks/sender.js";
import {
  type AlertMessage,
  detectWebhookFormat,
  headline,
  html,
  plainText,
  type WebhookFormat,
  webhookPayload,
} from "./message.js";

export type ChannelName = "email" | "webhook";

/** Where a notification goes. `send` throws on failure, with a message free of credentials. */
export interface AlertChannel {
  readonly name: ChannelName;
  send(message: AlertMessage, extraRecipients: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** Replaces every secret in `text` (the SMTP password, the webhook URL's path and query) with "***". */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret !== undefined && secret.length >= 4) out = out.split(secret).join("***");
  }
  return out;
}

/** The webhook URL as it may be logged: scheme, host and port only (the path of a webhook is its token). */
export function webhookOrigin(url: string): string {
  return new URL(url).origin;
}

export interface SmtpSettings {
  host: string;
  port: number;
  user: string | undefined;
  pass: string | undefined;
  from: string;
  /** ADMIN_EMAIL: receives every alert. */
  to: string | undefined;
  /** Tests on loopback: no TLS required. */
  requireTls?: boolean;
  timeoutMs?: number;
}

export class EmailChannel implements AlertChannel {
  readonly name = "email";
  private readonly transport: Transporter;

  constructor(private readonly settings: SmtpSettings) {
    const timeout = settings.timeoutMs ?? 10_000;
    this.transport = createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.port === 465,
      requireTLS: settings.requireTls ?? false,
      ...(settings.user === undefined ? {} : { auth: { user: settings.user, pass: settings.pass ?? "" } }),
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      logger: false,
      debug: false,
    });
  }

  async send(message: AlertMessage, extraRecipients: readonly string[]): Promise<void> {
    const to = [
      ...new Set([...(this.settings.to === undefined ? [] : [this.settings.to]), ...extraRecipients]),
    ];
    if (to.length === 0) return;
    try {
      await this.transport.sendMail({
        from: this.settings.from,
        to,
        subject: headline(message),
        text: plainText(message),
        html: html(message),
      });
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      throw new Error(`e-mail not sent: ${redact(text, [this.settings.pass])}`);
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

export class WebhookChannel implements AlertChannel {
  readonly name = "webhook";
  private readonly format: WebhookFormat;
  private readonly secrets: string[];

  constructor(
    private readonly url: string,
    format: WebhookFormat | "auto",
    private readonly sender: CallbackSender,
  ) {
    this.format = detectWebhookFormat(url, format);
    const parsed = new URL(url);
    this.secrets = [parsed.pathname, parsed.search, url].filter((s) => s.length > 1);
  }

  async send(message: AlertMessage, _recipients: readonly string[] = []): Promise<void> {
    const result = await this.sender.send(this.url, JSON.stringify(webhookPayload(message, this.format)), {});
    if (!result.ok) {
      const reason = redact(result.error ?? `HTTP ${String(result.status)}`, this.secrets);
      throw new Error(`webhook ${webhookOrigin(this.url)} (${this.format}) failed: ${reason}`);
    }
  }

  async close(): Promise<void> {
    await this.sender.close();
  }
}
