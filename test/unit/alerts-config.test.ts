import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config/index.js";
import { alertWiring } from "../../src/start/server.js";

function problems(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("alert configuration", () => {
  it("defaults: webhook format auto, a 900 s cooldown, no channels", () => {
    const config = parseConfig({});
    expect(config.webhookFormat).toBe("auto");
    expect(config.alertCooldownSeconds).toBe(900);
    expect(alertWiring(config)).toEqual({ settings: { defaultThreshold: 100, cooldownMs: 900_000 } });
  });

  it("wires e-mail from SMTP_* and ADMIN_EMAIL, and the webhook with its format", () => {
    const config = parseConfig({
      SMTP_HOST: "smtp.example.com",
      SMTP_PORT: "465",
      SMTP_USER: "alerts",
      SMTP_PASS: "secret",
      ADMIN_EMAIL: "Ops@Example.com",
      WEBHOOK_URL: "https://hooks.slack.com/services/T/B/x",
      WEBHOOK_FORMAT: "teams",
      QUEUE_THRESHOLD: "500",
      ALERT_COOLDOWN_SECONDS: "0",
    });
    expect(alertWiring(config)).toEqual({
      settings: { defaultThreshold: 500, cooldownMs: 0 },
      smtp: {
        host: "smtp.example.com",
        port: 465,
        user: "alerts",
        pass: "secret",
        from: "ops@example.com",
        to: "ops@example.com",
      },
      webhook: { url: "https://hooks.slack.com/services/T/B/x", format: "teams" },
    });
  });

  it("refuses an unknown format and a negative cooldown", () => {
    expect(problems({ WEBHOOK_FORMAT: "discord" }).join("\n")).toContain("WEBHOOK_FORMAT");
    expect(problems({ ALERT_COOLDOWN_SECONDS: "-1" }).join("\n")).toContain("ALERT_COOLDOWN_SECONDS");
  });
});
