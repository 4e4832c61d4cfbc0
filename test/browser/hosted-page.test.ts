import type { AddressInfo } from "node:net";
import { createRemoteJWKSet, jwtVerify } from "jose";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { html, launchBrowser, type Site, seriousViolations, startSite } from "../helpers/browser.js";
import { createSite, type Harness, join, startHarness, status } from "../helpers/harness.js";
import { releaseUntilOut } from "../helpers/page-join.js";

/**
 * The hosted waiting page in Debian's Chromium: the API listens on loopback, and the "shop" the visitor
 * returns to is another loopback site (application domain `localhost`, which matches any local port).
 */
let h: Harness;
let browser: Browser;
let shop: Site;
let api: string;

beforeAll(async () => {
  h = await startHarness();
  await h.app.listen({ port: 0, host: "127.0.0.1" });
  api = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  const jwks = createRemoteJWKSet(new URL(`${api}/.well-known/jwks.json`));
  shop = await startSite({
    "/ready": async (_request, response, url) => {
      const token = url.searchParams.get("anteroom_token") ?? "";
      try {
        const { payload } = await jwtVerify(token, jwks);
        html(
          response,
          `<!doctype html><title>Shop</title><h1 id="admitted">Admitted ${String(payload.sub)}</h1>`,
        );
      } catch (error) {
        html(response, `<!doctype html><title>Shop</title><h1 id="refused">${String(error)}</h1>`);
      }
    },
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await shop?.close();
  await h?.close();
});

const localSite = () => createSite(h, {}, { domain: "localhost" });

async function stateOf(
  page: Page,
): Promise<{ token: string; status: { position: number; queue_size: number } }> {
  return JSON.parse((await page.textContent("#anteroom-state")) ?? "{}");
}

/** A context that fails the test on any CSP violation the page reports. */
async function contextWith(options: Parameters<Browser["newContext"]>[0] = {}) {
  const context: BrowserContext = await browser.newContext(options);
  const violations: string[] = [];
  // The enhancement script asks before leaving the line (window.confirm): the visitor says yes.
  context.on("dialog", (dialog) => void dialog.accept());
  context.on("console", (message) => {
    if (/Content.Security.Policy/i.test(message.text())) violations.push(message.text());
  });
  return { context, violations };
}

describe("the hosted page in a browser", () => {
  it("Arabic: right to left, Arabic text, the right plural, the progress bar mirrored", async () => {
    const { queueId, apiKey } = await localSite();
    await join(h, apiKey, queueId, "one");
    await join(h, apiKey, queueId, "two");
    const { context, violations } = await contextWith();
    const page = await context.newPage();
    await page.goto(`${api}/wait/${queueId}?lang=ar`);
    expect(await page.locator("html").getAttribute("dir")).toBe("rtl");
    expect(await page.locator("html").getAttribute("lang")).toBe("ar");
    expect(await page.textContent("h1")).toBe("أنت في قائمة الانتظار");
    expect(await page.textContent('[data-anteroom="ahead"]')).toBe("شخصان أمامك");
    expect(await page.textContent('[data-anteroom="position"]')).toMatch(/^(3|٣)$/);
    // The bar starts at the right edge of its track (inline-start in RTL).
    const track = await page.locator('[data-anteroom="progress"]').boundingBox();
    const bar = await page.locator('[data-anteroom="bar"]').boundingBox();
    expect(Math.round((bar?.x ?? 0) + (bar?.width ?? 0))).toBe(
      Math.round((track?.x ?? 0) + (track?.width ?? 0)),
    );
    expect(violations).toEqual([]);
    await context.close();
  });

  it("without JavaScript it shows the place and moves on to return_to once released (meta refresh)", async () => {
    const { queueId } = await localSite();
    const { context } = await contextWith({ javaScriptEnabled: false });
    const page = await context.newPage();
    const returnTo = `${shop.url}/ready`;
    await page.goto(`${api}/wait/${queueId}?return_to=${encodeURIComponent(returnTo)}`);
    expect(await page.textContent('[data-anteroom="position"]')).toBe("1");
    expect(await page.textContent('[data-anteroom="ahead"]')).toBe("No one is ahead of you");
    const state = await stateOf(page);
    await releaseUntilOut(h, state.token);
    // The page refreshes itself (every few seconds near the front) and the refresh is answered 303.
    await page.waitForURL(/\/ready\?anteroom_token=/, { timeout: 15_000 });
    expect(await page.textContent("h1")).toMatch(/^Admitted /);
    await context.close();
  });

  it("a reload and a second tab keep one place; the cancel button frees it", async () => {
    const { queueId, apiKey } = await localSite();
    const { context, violations } = await contextWith();
    const first = await context.newPage();
    await first.goto(`${api}/wait/${queueId}`);
    const { token } = await stateOf(first);
    await first.reload();
    const second = await context.newPage();
    await second.goto(`${api}/wait/${queueId}?theme=dark`);
    expect((await stateOf(first)).token).toBe(token);
    expect(await stateOf(second)).toMatchObject({ token, status: { position: 1, queue_size: 1 } });
    const behind = await join(h, apiKey, queueId, "behind");
    expect(behind.position).toBe(2);
    await second.getByRole("button", { name: "Leave the line" }).click({ timeout: 5000 });
    await second.waitForSelector('[data-status="cancelled"]', { timeout: 5000 });
    expect(await second.textContent("h1")).toBe("You left the line.");
    expect((await status(h, behind.token)).position).toBe(1);
    await second.getByRole("link", { name: "Join again" }).click();
    await second.waitForSelector('[data-status="waiting"]');
    expect((await stateOf(second)).status.position).toBe(2);
    expect(violations).toEqual([]);
    await context.close();
  });

  it("a foreign return_to is refused with a page that says why", async () => {
    const { queueId } = await localSite();
    const { context } = await contextWith();
    const page = await context.newPage();
    const response = await page.goto(
      `${api}/wait/${queueId}?return_to=${encodeURIComponent("https://evil.example/steal")}`,
    );
    expect(response?.status()).toBe(400);
    expect(await page.textContent("h1")).toBe("This waiting room can't be opened");
    expect(await page.textContent(".message")).toContain("isn't part of this site");
    expect(await context.cookies()).toEqual([]);
    await context.close();
  });

  for (const lang of ["en", "ar"]) {
    for (const colorScheme of ["light", "dark"] as const) {
      it(`axe finds no serious violation: ${lang}, ${colorScheme}`, async () => {
        const { queueId, apiKey } = await localSite();
        for (let i = 0; i < 4; i++) await join(h, apiKey, queueId, `ahead-${i}`);
        const { context } = await contextWith();
        const page = await context.newPage();
        await page.emulateMedia({ colorScheme });
        await page.goto(`${api}/wait/${queueId}?lang=${lang}&theme=auto`);
        expect(await seriousViolations(page)).toEqual([]);
        // The ended page too.
        await page.locator("form button").click();
        await page.waitForSelector('[data-status="cancelled"]');
        expect(await seriousViolations(page)).toEqual([]);
        await context.close();
      });
    }
  }
});
