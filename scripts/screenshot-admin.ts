// Pictures of the operator's console (live view) for the docs, made with the tests' browser (Debian's
// Chromium through playwright-core). An embedded server on loopback serves the console, the login and the
// admin API with a demo application and queue; only GET /dashboard/queue_stats is played by request
// routing, with the figures of a sale in progress (a rush of joins easing off, releases at the configured
// rate), because a real sale needs minutes to draw a curve. The page's clock is driven by the script: each
// 2-second poll happens at once. Writes docs/images/admin-live-view*.png.
// Run: npx tsx scripts/screenshot-admin.ts
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { parseConfig } from "../src/config/parse.js";
import { serve } from "../src/start/server.js";
import { launchBrowser } from "../test/helpers/browser.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
// `--out <dir>` writes elsewhere; `--all` adds the English-dark and Arabic-light phone pictures (to check).
const args = process.argv.slice(2);
const outAt = args.indexOf("--out");
const OUT = (outAt >= 0 ? args[outAt + 1] : undefined) ?? join(ROOT, "docs", "images");
const ALL = args.includes("--all");
const ADMIN = { email: "ops@example.com", password: "screenshots-demo-password" };
/** Readings plotted: three minutes of the view being open. */
const READINGS = 90;
const RATE = 300;

/** The queue's figures at reading `i`: joins rush in and ease off; releases hold the configured rate. */
function figures(i: number, queueId: string) {
  let waiting = 3200;
  let joined = 48_000;
  for (let k = 0; k <= i; k++) {
    const joinsPerMinute = 120 + 1100 * Math.exp(-k / 22) + 60 * Math.sin(k / 3);
    const releasedPerMinute = RATE - 6 + 8 * Math.sin(k / 5);
    joined += Math.round(joinsPerMinute / 30);
    waiting = Math.max(0, waiting + Math.round(joinsPerMinute / 30) - Math.round(releasedPerMinute / 30));
  }
  const released = Math.round(RATE - 6 + 8 * Math.sin(i / 5));
  return {
    queue_id: queueId,
    name: "Spring sale",
    mode: "live",
    waiting,
    configured_rate_per_minute: RATE,
    measured_rate_per_minute: 297.4,
    released_last_minute: released,
    joined_total: joined,
    oldest_waiting_joined_at: new Date(Date.now() - 41 * 60_000).toISOString(),
    longest_wait_seconds: 41 * 60 + 12,
    estimated_drain_seconds: Math.round((waiting / 297.4) * 60),
    admitted_active: 1184,
    callbacks: { pending: 3, failed: 0 },
  };
}

async function call<T>(base: string, path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const { json, ...rest } = init;
  const response = await fetch(`${base}${path}`, {
    ...rest,
    headers: {
      ...(json === undefined ? {} : { "content-type": "application/json" }),
      ...(rest.headers as Record<string, string> | undefined),
    },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Runs the page's clock one poll at a time, waiting for each answer to be drawn. */
async function poll(page: Page, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    await Promise.all([
      page.waitForResponse((response) => response.url().includes("/dashboard/queue_stats")),
      page.clock.runFor(2_000),
    ]);
    await page.waitForTimeout(20);
  }
  // Effects (uPlot's setData) run after paint: let a few frames pass.
  await page.clock.runFor(500);
  await page.waitForTimeout(200);
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "anteroom-screenshots-"));
  const app = await serve(
    parseConfig({
      HOST: "127.0.0.1",
      PORT: "0",
      DATA_DIR: dataDir,
      SECRET_KEY: "screenshots-only-secret-key-0123456789abcdef",
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      ALLOW_PRIVATE_CALLBACKS: "true",
      LOG_LEVEL: "warn",
    }),
  );
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const browser = await launchBrowser();
  try {
    const { access_token } = await call<{ access_token: string }>(base, "/auth/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "password", username: ADMIN.email, password: ADMIN.password }),
    });
    const admin = { authorization: `Bearer ${access_token}` };
    const application = await call<{ id: string }>(base, "/applications/", {
      method: "POST",
      headers: admin,
      json: { name: "Demo shop", domain: "shop.example.com", callback_url: "http://127.0.0.1:9/callback" },
    });
    const queue = await call<{ id: string }>(base, "/queues/", {
      method: "POST",
      headers: admin,
      json: { application_id: application.id, name: "Spring sale", max_users_per_minute: RATE },
    });
    const shots = [
      { file: "admin-live-view.png", lang: "en", scheme: "light" as const, width: 1200, height: 900 },
      { file: "admin-live-view-ar-dark.png", lang: "ar", scheme: "dark" as const, width: 1200, height: 900 },
      { file: "admin-live-view-phone.png", lang: "en", scheme: "light" as const, width: 375, height: 800 },
      {
        file: "admin-live-view-ar-dark-phone.png",
        lang: "ar",
        scheme: "dark" as const,
        width: 375,
        height: 800,
      },
      ...(ALL
        ? [
            {
              file: "admin-live-view-en-dark-phone.png",
              lang: "en",
              scheme: "dark" as const,
              width: 375,
              height: 800,
            },
            {
              file: "admin-live-view-ar-phone.png",
              lang: "ar",
              scheme: "light" as const,
              width: 375,
              height: 800,
            },
          ]
        : []),
    ];
    mkdirSync(OUT, { recursive: true });
    for (const shot of shots) {
      const context = await browser.newContext({
        viewport: { width: shot.width, height: shot.height },
        deviceScaleFactor: shot.width < 500 ? 2 : 1,
        colorScheme: shot.scheme,
        reducedMotion: "reduce",
      });
      let reading = 0;
      await context.route(`${base}/dashboard/queue_stats*`, (route) =>
        route.fulfill({
          contentType: "application/json",
          body: JSON.stringify({ application_id: application.id, items: [figures(reading++, queue.id)] }),
        }),
      );
      const page = await context.newPage();
      await page.clock.install({ time: new Date("2026-03-14T09:58:00Z") });
      await page.goto(`${base}/admin?lang=${shot.lang}`);
      await page.clock.runFor(100);
      await page.locator('input[name="username"]').fill(ADMIN.email);
      await page.locator('input[name="password"]').fill(ADMIN.password);
      await page.locator('form button[type="submit"]').click();
      await page.clock.runFor(500);
      await page.locator("header nav").waitFor();
      await page.evaluate(`location.hash = "#/live/${application.id}"`);
      await page.clock.runFor(500);
      await page.locator(".live-queue canvas").waitFor();
      await poll(page, READINGS);
      await page.screenshot({ path: join(OUT, shot.file), fullPage: shot.width < 500 });
      process.stdout.write(`wrote ${join(OUT, shot.file)}\n`);
      await context.close();
    }
  } finally {
    await browser.close();
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `screenshot-admin: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
