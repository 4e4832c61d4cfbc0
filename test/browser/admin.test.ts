import type { AddressInfo } from "node:net";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, seriousViolations } from "../helpers/browser.js";
import { createSite, type Harness, join, PASSWORD, startHarness } from "../helpers/harness.js";
import { releasedIn } from "../helpers/releases.js";

/**
 * The operator's console (/admin) in Debian's Chromium, against the real API on loopback: log in, create
 * an application and a queue, watch visitors join and be released in the live view, handle a dead letter,
 * and the session's rules (token in memory only, any 401 logs out, a viewer cannot write).
 */
let h: Harness;
let browser: Browser;
let api: string;

beforeAll(async () => {
  h = await startHarness();
  await h.app.listen({ port: 0, host: "127.0.0.1" });
  api = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  // The accounts exist (h.login creates them with PASSWORD); the browser logs in by itself.
  await h.login("admin@example.com");
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

interface Opened {
  context: BrowserContext;
  page: Page;
  /** CSP violations and script errors the page reported. */
  problems: string[];
}

async function openConsole(
  options: { lang?: string; colorScheme?: "light" | "dark"; width?: number } = {},
): Promise<Opened> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1100, height: 900 },
    colorScheme: options.colorScheme ?? "light",
  });
  context.on("dialog", (dialog) => void dialog.accept());
  const problems: string[] = [];
  const page = await context.newPage();
  // Fail within the test's own time, with the step that waited.
  page.setDefaultTimeout(10_000);
  page.on("console", (message) => {
    if (/Content.Security.Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(String(error)));
  await page.goto(`${api}/admin${options.lang === undefined ? "" : `?lang=${options.lang}`}`);
  return { context, page, problems };
}

async function logIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.locator('input[name="username"]').fill(email);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('form button[type="submit"]').click();
  await page.locator("header nav").waitFor({ timeout: 10_000 });
}

/** The figure a live-view stat shows, by its label. */
function stat(page: Page, label: string) {
  return page.locator(".live-queue .stat", { hasText: label }).locator(".stat-value");
}

/** uPlot drew something: its canvas exists, has a size, and not every pixel is transparent. */
async function chartDrawn(page: Page, selector: string): Promise<boolean> {
  const canvas = page.locator(`${selector} canvas`).first();
  return canvas.evaluate((element: unknown) => {
    // Structural: the test's TypeScript has no DOM types.
    const drawn = element as {
      width: number;
      height: number;
      getContext(kind: "2d"): {
        getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
      };
    };
    if (drawn.width === 0 || drawn.height === 0) return false;
    const pixels = drawn.getContext("2d").getImageData(0, 0, drawn.width, drawn.height).data;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
    return false;
  });
}

/** Moves the console to a route (`apps/<id>`), as its links do. */
async function go(page: Page, route: string): Promise<void> {
  await page.evaluate(`location.hash = ${JSON.stringify(`#/${route}`)}`);
}

async function tokenStoredAnywhere(opened: Opened): Promise<boolean> {
  // An expression (the test's TypeScript has no DOM types): what the page could have kept anywhere.
  const stored = await opened.page.evaluate<{ local: number; session: number; cookie: string }>(
    "({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie })",
  );
  return (
    stored.local !== 0 ||
    stored.session !== 0 ||
    stored.cookie !== "" ||
    (await opened.context.cookies()).length !== 0
  );
}

describe("the console's page", () => {
  it("is served with a strict CSP, nosniff, no-referrer and no framing; assets are hashed and gzipped", async () => {
    const response = await fetch(`${api}/admin?lang=ar`);
    expect(response.status).toBe(200);
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    const body = await response.text();
    expect(body).toContain('<html lang="ar" dir="rtl">');
    const script = /src="(\/admin\/assets\/admin\.[0-9a-f]{12}\.js)"/.exec(body)?.[1];
    const style = /href="(\/admin\/assets\/admin\.[0-9a-f]{12}\.css)"/.exec(body)?.[1];
    expect(script).toBeDefined();
    expect(style).toBeDefined();
    const asset = await fetch(`${api}${script}`, { headers: { "accept-encoding": "gzip" } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-encoding")).toBe("gzip");
    expect(asset.headers.get("cache-control")).toContain("immutable");
    const again = await fetch(`${api}${script}`, {
      headers: { "if-none-match": asset.headers.get("etag") ?? "" },
    });
    expect(again.status).toBe(304);
    expect((await fetch(`${api}/admin/assets/admin.000000000000.js`)).status).toBe(404);
    const openapi = (await (await fetch(`${api}/docs/json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths).filter((path) => path.startsWith("/admin"))).toEqual([]);
  });
});

describe("an operator's session", () => {
  it("logs in, creates an application and a queue, and watches visitors join and be released live", async () => {
    const opened = await openConsole();
    const { page, problems } = opened;
    expect(await page.textContent("main")).toContain("reloading or closing the page logs you out");
    await logIn(page, "admin@example.com");
    expect(await tokenStoredAnywhere(opened)).toBe(false);

    // A new application: its secret API key is shown once.
    await page.getByRole("link", { name: "Applications" }).click();
    await page.getByText("Create application", { exact: true }).first().click();
    await page.getByLabel("Name", { exact: true }).fill("Concert <script>alert(1)</script> tickets");
    await page.getByLabel("Domain", { exact: true }).fill("localhost");
    await page.getByLabel("Callback URL", { exact: true }).fill("http://127.0.0.1:9/callback");
    await page.locator("form").getByRole("button", { name: "Create application" }).click();
    const apiKey = (await page.locator(".secrets dd").first().textContent()) ?? "";
    expect(apiKey).toMatch(/^ak_/);
    // The name is text, never markup.
    expect(await page.locator(".secrets h2").textContent()).toContain("<script>alert(1)</script>");

    // A queue in it, with waiting-page settings in English and Arabic.
    await page.getByRole("link", { name: "Add a queue to it" }).click();
    await page.getByRole("link", { name: "Create queue" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Main sale");
    await page.getByLabel("Release rate (per minute)", { exact: true }).fill("60");
    await page.getByLabel("Title (EN)", { exact: true }).fill("Welcome to the sale");
    await page.getByLabel("Title (AR)", { exact: true }).fill("مرحبًا بكم في التخفيضات");
    await page.locator("form").getByRole("button", { name: "Create queue" }).click();
    await page.waitForURL(/#\/queues\/[0-9a-f-]{36}$/);
    const queueId = page.url().split("/").pop() ?? "";
    const stored = await h.store.queues.findActive(queueId);
    expect(stored?.page?.title).toEqual({ en: "Welcome to the sale", ar: "مرحبًا بكم في التخفيضات" });
    await h.room.engine.refresh();

    // The live view: visitors join from the site's server...
    await page.getByRole("link", { name: "Live view" }).click();
    await page.locator(".live-queue").waitFor();
    expect(await stat(page, "Waiting").textContent()).toBe("0");
    for (let i = 0; i < 5; i++) await join(h, apiKey, queueId, `visitor-${i}`);
    await expect.poll(() => stat(page, "Waiting").textContent(), { timeout: 10_000 }).toBe("5");
    await expect.poll(() => stat(page, "Joining").textContent(), { timeout: 10_000 }).not.toBe("—");

    // ...and are released by the worker's round.
    for (let round = 0; round < 20 && (await releasedIn(h, queueId)).length < 2; round++) {
      h.clock.advance(1_000);
      await h.room.engine.releaseDue();
    }
    const released = (await releasedIn(h, queueId)).length;
    expect(released).toBeGreaterThanOrEqual(2);
    await expect
      .poll(() => stat(page, "Waiting").textContent(), { timeout: 10_000 })
      .toBe(String(5 - released));
    await expect
      .poll(() => stat(page, "Released in the last minute").textContent(), { timeout: 10_000 })
      .toBe(String(released));
    await expect.poll(() => chartDrawn(page, ".live-queue .chart"), { timeout: 10_000 }).toBe(true);
    // The chart's legend names the three series.
    expect(await page.locator(".live-queue .legend").textContent()).toMatch(
      /Waiting.*Joins\/min.*Releases\/min/,
    );

    expect(await tokenStoredAnywhere(opened)).toBe(false);
    expect(problems).toEqual([]);
    await opened.context.close();
  });

  it("a 401 in the middle of a session logs out and shows the login form", async () => {
    await h.login("short-lived@example.com", "admin");
    const opened = await openConsole();
    await logIn(opened.page, "short-lived@example.com");
    await opened.page.getByRole("link", { name: "Live", exact: true }).click();
    // The account is disabled elsewhere: its token is refused from now on.
    const response = await h.app.inject({
      method: "PUT",
      url: `/users/${await h.userId("short-lived@example.com")}`,
      headers: await h.login("admin@example.com"),
      payload: { disabled: true },
    });
    expect(response.statusCode).toBe(200);
    // The next call (the live view's poll, or this navigation's load) is refused: the console logs out.
    await go(opened.page, "");
    await opened.page.locator('input[name="password"]').waitFor({ timeout: 10_000 });
    expect(await opened.page.textContent("main")).toContain("Your session ended");
    expect(await opened.page.locator("header nav").count()).toBe(0);
    expect(await tokenStoredAnywhere(opened)).toBe(false);
    await opened.context.close();
  });

  it("a wrong password is said plainly", async () => {
    const opened = await openConsole();
    await opened.page.locator('input[name="username"]').fill("admin@example.com");
    await opened.page.locator('input[name="password"]').fill("not the password at all");
    await opened.page.locator('form button[type="submit"]').click();
    await opened.page.locator(".error").waitFor();
    expect(await opened.page.textContent(".error")).toContain("Wrong email or password.");
    await opened.context.close();
  });
});

describe("roles", () => {
  it("a viewer sees no write controls; a demoted operator's save shows the API's 403 clearly", async () => {
    const site = await createSite(h, {}, { name: "Viewer's shop" });
    const admin = await h.login("admin@example.com");
    for (const [email, role] of [
      ["viewer@example.com", "viewer"],
      ["operator@example.com", "operator"],
    ] as const) {
      await h.login(email, role);
      await h.app.inject({
        method: "POST",
        url: `/users/${await h.userId(email)}/grants`,
        headers: admin,
        payload: { application_id: site.appId },
      });
    }

    const viewer = await openConsole();
    await logIn(viewer.page, "viewer@example.com");
    await go(viewer.page, `apps/${site.appId}`);
    await viewer.page.locator("h1", { hasText: "Viewer's shop" }).waitFor();
    expect(await viewer.page.getByRole("button", { name: "Save" }).count()).toBe(0);
    expect(await viewer.page.getByRole("button", { name: "Delete application" }).count()).toBe(0);
    expect(await viewer.page.getByRole("link", { name: "Create queue" }).count()).toBe(0);
    expect(await viewer.page.getByRole("button", { name: "Rotate the API key" }).count()).toBe(0);
    expect(await viewer.page.textContent("main")).toContain("Your role can read this but not change it.");
    await viewer.context.close();

    const operator = await openConsole();
    await logIn(operator.page, "operator@example.com");
    await go(operator.page, `apps/${site.appId}`);
    // While an operator, a save goes through (the form sends nothing an operator may not set).
    await operator.page.getByLabel("Name", { exact: true }).fill("Viewer's shop, edited");
    await operator.page.getByRole("button", { name: "Save" }).click();
    await operator.page.getByText("Saved.").waitFor();
    expect((await h.store.applications.findById(site.appId))?.name).toBe("Viewer's shop, edited");
    const demoted = await h.app.inject({
      method: "PUT",
      url: `/users/${await h.userId("operator@example.com")}`,
      headers: admin,
      payload: { role: "viewer" },
    });
    expect(demoted.statusCode).toBe(200);
    await operator.page.getByLabel("Name", { exact: true }).fill("Renamed");
    await operator.page.getByRole("button", { name: "Save" }).click();
    await operator.page.locator(".error").waitFor();
    const shown = await operator.page.textContent(".error");
    expect(shown).toContain("Your role may not do this.");
    expect(shown).toContain("forbidden (403)");
    await operator.context.close();
  });
});

describe("analytics", () => {
  it("draws joins and releases and the wait's percentiles, by day and by hour", async () => {
    const site = await createSite(h, { max_users_per_minute: 60 }, { name: "Analytics shop" });
    for (let i = 0; i < 3; i++) await join(h, site.apiKey, site.queueId, `analytics-${i}`);
    for (let round = 0; round < 20 && (await releasedIn(h, site.queueId)).length < 2; round++) {
      h.clock.advance(1_000);
      await h.room.engine.releaseDue();
    }
    // A minute past the rollup's lag, the worker's rollup has counted it all.
    h.clock.advance(2 * 60_000);
    expect((await h.room.analytics.rollUp()).caughtUp).toBe(true);

    const opened = await openConsole();
    const { page, problems } = opened;
    await logIn(page, "admin@example.com");
    await go(page, `analytics/${site.appId}`);
    await page.locator("#analytics-traffic canvas").waitFor();
    await expect.poll(() => chartDrawn(page, "#analytics-traffic"), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => chartDrawn(page, "#analytics-wait"), { timeout: 10_000 }).toBe(true);
    const total = (label: string) =>
      page.locator(".stat", { has: page.getByText(label, { exact: true }) }).locator(".stat-value");
    await expect.poll(() => total("Joins").textContent()).toBe("3");
    expect(await total("Releases").textContent()).toBe(String((await releasedIn(h, site.queueId)).length));

    // By hour: the same figures in hourly buckets, the chart redrawn.
    const byHour = page.getByRole("button", { name: "By hour" });
    await byHour.click();
    await expect.poll(() => byHour.getAttribute("aria-pressed")).toBe("true");
    await expect.poll(() => total("Joins").textContent()).toBe("3");
    await expect.poll(() => chartDrawn(page, "#analytics-traffic"), { timeout: 10_000 }).toBe(true);
    // One queue, and a longer period.
    await page.getByLabel("Queue", { exact: true }).selectOption(site.queueId);
    await page.getByLabel("Period", { exact: true }).selectOption("30");
    await expect.poll(() => total("Joins").textContent()).toBe("3");
    expect(await seriousViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await opened.context.close();
  });
});

describe("accessibility", () => {
  for (const lang of ["en", "ar"]) {
    for (const colorScheme of ["light", "dark"] as const) {
      // Axe on every page in turn takes longer than the default 30 s.
      it(`axe finds no serious violation: ${lang}, ${colorScheme}`, async () => {
        const site = await createSite(h, {}, { name: lang === "ar" ? "متجر الحفلات" : "Concert shop" });
        await join(h, site.apiKey, site.queueId, `a11y-${lang}-${colorScheme}`);
        const opened = await openConsole({ lang, colorScheme });
        const { page } = opened;
        expect(await seriousViolations(page)).toEqual([]);
        await logIn(page, "admin@example.com");
        expect(await page.locator("html").getAttribute("dir")).toBe(lang === "ar" ? "rtl" : "ltr");
        for (const route of [
          "",
          `live/${site.appId}`,
          "apps",
          `apps/${site.appId}`,
          `queues/${site.queueId}`,
          `analytics/${site.appId}`,
        ]) {
          await go(page, route);
          await page.locator("main h1").first().waitFor();
          await page.waitForLoadState("networkidle");
          if (route.startsWith("live/")) await page.locator(".live-queue canvas").waitFor();
          if (route.startsWith("analytics/")) await page.locator("#analytics-wait canvas").waitFor();
          expect(await seriousViolations(page), `#/${route}`).toEqual([]);
        }
        expect(opened.problems).toEqual([]);
        await opened.context.close();
      }, 120_000);
    }
  }
});
