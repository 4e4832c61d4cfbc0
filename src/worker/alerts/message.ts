import { ALERT_ADVICE, type AlertDetails, type AlertKind, describeAlert } from "../../domain/alerts.js";

/** One notification: an alert that fired or resolved. */
export interface AlertMessage {
  alertId: string;
  kind: AlertKind;
  subject: string;
  applicationId: string | null;
  event: "fired" | "resolved";
  /** When it fired or resolved (ms since epoch). */
  at: number;
  details: AlertDetails;
}

export function headline(message: AlertMessage): string {
  const state = message.event === "fired" ? "FIRING" : "RESOLVED";
  return `[Anteroom] ${state}: ${describeAlert(message.kind, message.subject, message.details)}`;
}

/** The facts listed under the headline, in order. */
export function facts(message: AlertMessage): [string, string][] {
  const list: [string, string][] = [
    ["alert", `${message.kind}:${message.subject}`],
    [message.event, new Date(message.at).toISOString()],
  ];
  if (message.applicationId !== null) list.push(["application", message.applicationId]);
  for (const [name, value] of Object.entries(message.details)) list.push([name, String(value)]);
  return list;
}

export function advice(message: AlertMessage): string {
  return message.event === "fired" ? ALERT_ADVICE[message.kind] : "The condition has cleared.";
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

export function plainText(message: AlertMessage): string {
  const lines = [headline(message), "", advice(message), ""];
  for (const [name, value] of facts(message)) lines.push(`${name}: ${value}`);
  return `${lines.join("\n")}\n`;
}

export function html(message: AlertMessage): string {
  const rows = facts(message)
    .map(([name, value]) => `<tr><th align="left">${escapeHtml(name)}</th><td>${escapeHtml(value)}</td></tr>`)
    .join("");
  return `<!doctype html><html><body><h2>${escapeHtml(headline(message))}</h2><p>${escapeHtml(advice(message))}</p><table>${rows}</table></body></html>`;
}

export type WebhookFormat = "slack" | "teams" | "json";

/** Slack for hooks.slack.com, Teams for Office 365 connectors and Power Automate workflows, JSON otherwise. */
export function detectWebhookFormat(url: string, setting: WebhookFormat | "auto"): WebhookFormat {
  if (setting !== "auto") return setting;
  const host = new URL(url).hostname.toLowerCase();
  if (host === "hooks.slack.com") return "slack";
  if (host.endsWith(".webhook.office.com") || host.endsWith(".logic.azure.com")) return "teams";
  return "json";
}

/** Slack's mrkdwn treats &, < and > as markup. */
function escapeSlack(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function webhookPayload(message: AlertMessage, format: WebhookFormat): unknown {
  switch (format) {
    case "slack": {
      const text = `*${escapeSlack(headline(message))}*\n${escapeSlack(advice(message))}`;
      return {
        text: escapeSlack(headline(message)),
        blocks: [
          { type: "section", text: { type: "mrkdwn", text } },
          {
            type: "section",
            fields: facts(message).map(([name, value]) => ({
              type: "mrkdwn",
              text: `*${escapeSlack(name)}*\n${escapeSlack(value)}`,
            })),
          },
        ],
      };
    }
    case "teams":
      return {
        type: "message",
        attachments: [
          {
            contentType: "application/vnd.microsoft.card.adaptive",
            contentUrl: null,
            content: {
              $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
              type: "AdaptiveCard",
              version: "1.4",
              body: [
                {
                  type: "TextBlock",
                  text: headline(message),
                  weight: "Bolder",
                  size: "Medium",
                  wrap: true,
                  color: message.event === "fired" ? "Attention" : "Good",
                },
                { type: "TextBlock", text: advice(message), wrap: true },
                { type: "FactSet", facts: facts(message).map(([title, value]) => ({ title, value })) },
              ],
            },
          },
        ],
      };
    case "json":
      return {
        alert: {
          id: message.alertId,
          kind: message.kind,
          subject: message.subject,
          applicationId: message.applicationId,
          event: message.event,
          at: new Date(message.at).toISOString(),
          details: message.details,
          summary: headline(message),
        },
      };
  }
}
