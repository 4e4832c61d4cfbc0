// `npm run screenshots`: pictures of the hosted waiting page for the docs, made with the browser the tests
// use (Debian's Chromium through playwright-core). Starts an embedded server on loopback with a demo
// application, a queue with page settings and people waiting, opens /wait/{queue_id} and writes
// docs/images/wait-en-light.png, wait-ar-dark.png and wait-en-phone.png.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { parseConfig } from "../src/config/parse.js";
import { serve } from "../src/start/server.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "docs", "images");
const ADMIN = { email: "demo@example.com", password: "screenshots-demo-password" };

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
      RATE_LIMIT_JOINS_PER_SECOND: "0",
      RATE_LIMIT_PAGE_JOINS_PER_SECOND: "0",
    }),
  );
  const { port } = app.server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--no-first-run",
    ],
  });
  try {
    const { access_token } = await call<{ access_token: string }>(base, "/auth/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "password", username: ADMIN.email, password: ADMIN.password }),
    });
    const admin = { authorization: `Bearer ${access_token}` };
    const application = await call<{ id: string; api_key: string }>(base, "/applications/", {
      method: "POST",
      headers: admin,
      json: { name: "Demo shop", domain: "shop.example.com", callback_url: "http://127.0.0.1:9/callback" },
    });
    const queue = await call<{ id: string }>(base, "/queues/", {
      method: "POST",
      headers: admin,
      json: {
        application_id: application.id,
        name: "Spring sale",
        max_users_per_minute: 6,
        page: {
          title: { en: "Spring sale: you're in line", ar: "تخفيضات الربيع: أنت في الطابور" },
          message: {
            en: "Lots of people want in right now. Keep this page open and we'll take you to the shop when it's your turn.",
            ar: "كثيرون يريدون الدخول الآن. أبقِ هذه الصفحة مفتوحة وسننقلك إلى المتجر عندما يحين دورك.",
          },
          accent_color: "#0f766e",
        },
      },
    });
    // People in line ahead of the pictures' visitors; some leave, so the progress bar has moved.
    const joinQueue = (visitor: string) =>
      call<{ token: string }>(base, "/join", {
        method: "POST",
        headers: { "x-api-key": application.api_key },
        json: { queue_id: queue.id, visitor_id: visitor },
      });
    const ahead = await Promise.all(Array.from({ length: 30 }, (_, i) => joinQueue(`early-${i}`)));
    const page = (query: string) =>
      `${base}/wait/${queue.id}?return_to=${encodeURIComponent("https://shop.example.com/checkout")}&${query}`;
    const shots = [
      {
        file: "wait-en-light.png",
        query: "lang=en&theme=light",
        scheme: "light" as const,
        width: 1280,
        height: 820,
      },
      {
        file: "wait-ar-dark.png",
        query: "lang=ar&theme=dark",
        scheme: "dark" as const,
        width: 1280,
        height: 820,
      },
      {
        file: "wait-en-phone.png",
        query: "lang=en&theme=auto",
        scheme: "light" as const,
        width: 375,
        height: 740,
      },
    ];
    const contexts = [];
    for (const shot of shots) {
      const context = await browser.newContext({
        viewport: { width: shot.width, height: shot.height },
        deviceScaleFactor: shot.width < 500 ? 2 : 1,
        colorScheme: shot.scheme,
        javaScriptEnabled: false, // the server-rendered page, as every visitor first sees it
        reducedMotion: "reduce", // a still picture: no pulse or shine caught mid-animation
      });
      const tab = await context.newPage();
      await tab.goto(page(shot.query));
      contexts.push({ shot, context, tab });
    }
    // A dozen of those ahead give up: everyone moves up.
    await Promise.all(
      ahead
        .slice(3, 15)
        .map((visitor) => call(base, "/cancel", { method: "POST", json: { token: visitor.token } })),
    );
    mkdirSync(OUT, { recursive: true });
    for (const { shot, context, tab } of contexts) {
      await tab.goto(page(shot.query));
      await tab.screenshot({ path: join(OUT, shot.file) });
      process.stdout.write(`wrote docs/images/${shot.file}\n`);
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
      `screenshots: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
