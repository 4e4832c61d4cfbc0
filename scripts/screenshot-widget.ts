/**
 * Screenshots of the embed widget for the docs (docs/images/widget-*.png), made with the tests' browser
 * (Debian's Chromium). The waiting room is played by request routing: the real queue.js bundle, and
 * answers a visitor 128th in line would get (joined at 200th, so the progress bar shows a third of the
 * way). Run: npx tsx scripts/screenshot-widget.ts
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Route } from "playwright-core";
import { buildClientBundle } from "../src/http/client-bundle.js";
import { launchBrowser } from "../test/helpers/browser.js";

const OUT = path.resolve(import.meta.dirname, "../docs/images");
const ROOM = "https://anteroom.example";
const SHOP = "https://shop.example";
const QUEUE = "0b7e6a8e-5d2c-4c1e-9f3a-2d4b6c8e0f12";

const status = (position: number) => ({
  status: "waiting",
  position,
  users_ahead: position - 1,
  estimated_wait_seconds: position * 3 + 36,
  queue_size: 640,
  poll_after_seconds: 1,
});

function shopPage(lang: string, theme: string): string {
  const script = `${ROOM}/scripts/queue.js?app_id=app_123&amp;callback_url=${encodeURIComponent(`${SHOP}/checkout`)}&amp;lang=${lang}&amp;theme=${theme}`;
  const products = ["Trail shoes", "Rain jacket", "Day pack", "Water bottle", "Head torch", "Wool socks"]
    .map(
      (name, i) =>
        `<li><div class="img" style="--h:${i * 47}"></div><b>${name}</b><span>€${29 + i * 12}</span></li>`,
    )
    .join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Northwind Outfitters — Drop day</title>
<style>body{margin:0;font:16px/1.5 system-ui,sans-serif;background:#f6f4ef;color:#222}header{background:#1f3a2e;color:#fff;padding:16px 24px;font-weight:700;font-size:20px}
main{padding:24px;max-width:960px;margin:auto}ul{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:16px}
li{background:#fff;border-radius:12px;padding:12px;display:grid;gap:4px}.img{height:100px;border-radius:8px;background:hsl(calc(var(--h)*1deg) 45% 70%)}</style>
<script src="${script}"></script></head><body><header>Northwind Outfitters</header><main><h1>Drop day: the spring collection</h1><ul>${products}</ul></main></body></html>`;
}

async function main(): Promise<void> {
  const bundle = await buildClientBundle();
  mkdirSync(OUT, { recursive: true });
  const browser = await launchBrowser();
  const shots: {
    file: string;
    lang: string;
    theme: "light" | "dark";
    width: number;
    height: number;
    scale: number;
  }[] = [
    { file: "widget-en-light.png", lang: "en", theme: "light", width: 960, height: 640, scale: 1 },
    { file: "widget-ar-dark.png", lang: "ar", theme: "dark", width: 960, height: 640, scale: 1 },
    { file: "widget-en-light-phone.png", lang: "en", theme: "light", width: 375, height: 720, scale: 2 },
    { file: "widget-ar-dark-phone.png", lang: "ar", theme: "dark", width: 375, height: 720, scale: 2 },
  ];
  try {
    for (const shot of shots) {
      const context = await browser.newContext({
        viewport: { width: shot.width, height: shot.height },
        deviceScaleFactor: shot.scale,
        colorScheme: shot.theme,
        locale: shot.lang,
      });
      let polls = 0;
      const json = (route: Route, body: unknown, statusCode = 200) =>
        route.fulfill({
          status: statusCode,
          contentType: "application/json",
          headers: { "access-control-allow-origin": "*", "access-control-allow-headers": "*" },
          body: JSON.stringify(body),
        });
      await context.route(`${ROOM}/**`, (route) => {
        const url = new URL(route.request().url());
        if (route.request().method() === "OPTIONS") return json(route, {}, 204);
        if (url.pathname === "/scripts/queue.js") {
          return route.fulfill({ contentType: "text/javascript; charset=utf-8", body: bundle.queue.body });
        }
        if (url.pathname.startsWith("/public/applications/"))
          return json(route, { id: "app_123", publishable_key: "pk_demo" });
        if (url.pathname === "/join") return json(route, { token: "demo-token", ...status(200) });
        if (url.pathname === "/queue_status") return json(route, status(polls++ === 0 ? 128 : 128));
        return json(route, { error: { code: "not_found", message: "not here" } }, 404);
      });
      await context.route(`${SHOP}/**`, (route) =>
        route.fulfill({ contentType: "text/html; charset=utf-8", body: shopPage(shot.lang, shot.theme) }),
      );
      const page = await context.newPage();
      await page.goto(`${SHOP}/drop?queue_id=${QUEUE}&visitor_id=v123`);
      await page
        .locator("[data-anteroom-overlay] .pos")
        .filter({ hasText: /^(128|١٢٨)$/ })
        .waitFor({ timeout: 15_000 });
      // Let the bar finish moving.
      await page.waitForTimeout(1_200);
      await page.screenshot({ path: path.join(OUT, shot.file) });
      console.log(`docs/images/${shot.file}`);
      await context.close();
    }
  } finally {
    await browser.close();
  }
}

await main();
