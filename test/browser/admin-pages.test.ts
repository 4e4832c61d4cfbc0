import type { AddressInfo } from "node:net";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { iso } from "../../src/domain/time.js";
import { launchBrowser, seriousViolations } from "../helpers/browser.js";
import { createSite, type Harness, join, PASSWORD, startHarness } from "../helpers/harness.js";
import { releasedIn } from "../helpers/releases.js";

/**
 * The console's other pages in Debian's Chromium: callback errors (retry, discard), alerts, users and
 * grants, signing keys; a phone's width; long, Arabic and hostile names.
 */
let h: Harness;
let browser: Browser;
let api: string;
let site: Awaited<ReturnType<typeof createSite>>;
const MINUTE = 60_000;

/** Releases `count` visitors of the queue (a round a manual minute), making their callbacks due. */
async function release(queueId: string, count: number): Promise<void> {
  const target = (await releasedIn(h, queueId)).length + count;
  for (let round = 0; round < 50 && (await releasedIn(h, queueId)).length < target; round++) {
    h.clock.advance(MINUTE);
    await h.room.engine.releaseDue();
  }
  expect((await releasedIn(h, queueId)).length).toBeGreaterThanOrEqual(target);
}

/** Dead-letters the application's due callbacks, as the dispatcher does after its last attempt. */
async function deadLetterAll(appId: string): Promise<number> {
  const now = iso(h.clock.now());
  const lease = iso(h.clock.now() + MINUTE);
  const entries = (await h.store.outbox.claimDue(now, lease, 100)).filter((e) => e.application_id === appId);
  for (const entry of entries)
    expect(
      await h.store.outbox.markDead(entry, lease, 3, "http://127.0.0.1:9/callback", "HTTP 503", 503, now),
    ).toBe(true);
  return entries.length;
}

async function deadLetters(appId: string) {
  return (await h.store.dashboard.listDeadLetters({ visible: [appId] }, { limit: 50, offset: 0 })).items;
}

beforeAll(async () => {
  h = await startHarness();
  await h.app.listen({ port: 0, host: "127.0.0.1" });
  api = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  await h.login("admin@example.com");
  site = await createSite(h, { max_users_per_minute: 1 }, { name: "Festival tickets" });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

async function openConsole(
  email: string,
  options: { lang?: string; colorScheme?: "light" | "dark"; width?: number } = {},
): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1100, height: 900 },
    colorScheme: options.colorScheme ?? "light",
  });
  context.on("dialog", (dialog) => void dialog.accept());
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  page.on("console", (message) => {
    if (/Content.Security.Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(String(error)));
  await page.goto(`${api}/admin${options.lang === undefined ? "" : `?lang=${options.lang}`}`);
  await page.locator('input[name="username"]').fill(email);
  await page.locator('input[name="password"]').fill(PASSWORD);
  await page.locator('form button[type="submit"]').click();
  await page.locator("header nav").waitFor();
  return { context, page, problems };
}

async function go(page: Page, route: string): Promise<void> {
  await page.evaluate(`location.hash = ${JSON.stringify(`#/${route}`)}`);
}

describe("callback errors", () => {
  it("lists dead letters; retry puts one back in the outbox, discard drops one; a viewer only reads", async () => {
    for (let i = 0; i < 2; i++) await join(h, site.apiKey, site.queueId, `cb-${i}`);
    await release(site.queueId, 2);
    expect(await deadLetterAll(site.appId)).toBeGreaterThanOrEqual(2);
    const before = await deadLetters(site.appId);

    await h.login("cb-viewer@example.com", "viewer");
    await h.app.inject({
      method: "POST",
      url: `/users/${await h.userId("cb-viewer@example.com")}/grants`,
      headers: await h.login("admin@example.com"),
      payload: { application_id: site.appId },
    });
    const viewer = await openConsole("cb-viewer@example.com");
    await go(viewer.page, `callbacks/${site.appId}`);
    await viewer.page.locator("tr[data-dead-letter]").first().waitFor();
    expect(await viewer.page.locator("tr[data-dead-letter]").count()).toBe(before.length);
    expect(await viewer.page.getByRole("button", { name: "Retry" }).count()).toBe(0);
    await viewer.context.close();

    const { context, page, problems } = await openConsole("admin@example.com");
    await go(page, `callbacks/${site.appId}`);
    const rows = page.locator("tr[data-dead-letter]");
    await rows.first().waitFor();
    expect(await rows.count()).toBe(before.length);
    expect(await rows.first().textContent()).toContain("HTTP 503");
    const first = await rows.first().getAttribute("data-dead-letter");
    await rows.first().getByRole("button", { name: "Retry" }).click();
    await page.getByText("Sent back for delivery.").waitFor();
    await expect.poll(() => rows.count()).toBe(before.length - 1);
    const after = await deadLetters(site.appId);
    expect(after.map((item) => item.id)).not.toContain(first);
    // Back in the outbox, due now, with the same event id.
    const due = await h.store.outbox.claimDue(iso(h.clock.now()), iso(h.clock.now() + MINUTE), 100);
    expect(due.map((entry) => entry.id)).toContain(before.find((item) => item.id === first)?.event_id);

    const second = await rows.first().getAttribute("data-dead-letter");
    await rows.first().getByRole("button", { name: "Discard" }).click();
    await page.getByText("Discarded.").waitFor();
    expect((await deadLetters(site.appId)).map((item) => item.id)).not.toContain(second);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe("alerts", () => {
  it("shows the history, filtered by state", async () => {
    const now = iso(h.clock.now());
    const fired = await h.store.alerts.fire(
      { kind: "queue_length", subject: site.queueId, application_id: site.appId, details: { waiting: 1234 } },
      [],
      now,
    );
    await h.store.alerts.fire(
      { kind: "dead_letters", subject: site.appId, application_id: site.appId, details: { count: 2 } },
      [],
      now,
    );
    expect(await h.store.alerts.resolve(fired?.id ?? "", [], now)).toBe(true);
    const { context, page } = await openConsole("admin@example.com");
    await go(page, "alerts");
    await page.locator("tbody tr").first().waitFor();
    expect(await page.locator("tbody tr").count()).toBe(2);
    expect(await page.textContent("tbody")).toContain("Queue too long");
    expect(await page.textContent("tbody")).toContain("Festival tickets");
    await page.getByLabel("State", { exact: true }).selectOption("firing");
    await expect.poll(() => page.locator("tbody tr").count()).toBe(1);
    expect(await page.textContent("tbody")).toContain("Callbacks given up");
    await context.close();
  });
});

describe("users and signing keys (admin)", () => {
  it("creates a user, grants an application, changes the role and disables them", async () => {
    const { context, page, problems } = await openConsole("admin@example.com");
    await go(page, "users");
    await page.getByText("Create user", { exact: true }).first().click();
    await page.getByLabel("Email", { exact: true }).fill("new-operator@example.com");
    await page.getByLabel("Password", { exact: true }).fill("a long enough password");
    await page.getByLabel("Role", { exact: true }).selectOption("operator");
    await page.locator("form").getByRole("button", { name: "Create user" }).click();
    await page.getByText("User new-operator@example.com created.").waitFor();
    const row = page.locator('tr[data-user="new-operator@example.com"]');
    await row.getByLabel("Grant an application to new-operator@example.com").selectOption(site.appId);
    await row.getByRole("button", { name: "Grant" }).click();
    await row.getByRole("button", { name: "Remove Festival tickets" }).waitFor();
    const id = await h.userId("new-operator@example.com");
    const read = async () => {
      const response = await h.app.inject({
        method: "GET",
        url: `/users/${id}`,
        headers: await h.login("admin@example.com"),
      });
      return response.json<{ role: string; application_ids: string[]; disabled_at: string | null }>();
    };
    expect((await read()).application_ids).toEqual([site.appId]);
    await row.getByLabel("Role of new-operator@example.com").selectOption("viewer");
    await expect.poll(async () => (await read()).role).toBe("viewer");
    await row.getByRole("button", { name: "Disable" }).click();
    await row.getByRole("button", { name: "Enable" }).waitFor();
    expect((await read()).disabled_at).not.toBeNull();
    // An admin cannot change themselves (the API answers 409): their own row offers no such button.
    const me = page.locator('tr[data-user="admin@example.com"]');
    expect(await me.getByRole("button", { name: "Disable" }).count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("rotates the signing key: the new key is published", async () => {
    const { context, page } = await openConsole("admin@example.com");
    await go(page, "keys");
    await page.locator("tr[data-kid]").first().waitFor();
    const before = await page.locator("tr[data-kid]").count();
    await page.getByRole("button", { name: "Rotate the signing key" }).click();
    const notice = page.getByText(/^New signing key: /);
    await notice.waitFor();
    const kid = ((await notice.textContent()) ?? "").replace(/^New signing key: /, "");
    await page.locator(`tr[data-kid="${kid}"]`).waitFor();
    expect(await page.locator("tr[data-kid]").count()).toBe(before + 1);
    await context.close();
  });

  it("an operator sees no users page and cannot rotate keys", async () => {
    await h.login("ops@example.com", "operator");
    const { context, page } = await openConsole("ops@example.com");
    expect(await page.getByRole("link", { name: "Users" }).count()).toBe(0);
    await go(page, "keys");
    await page.getByText("Only admins rotate signing keys.").waitFor();
    expect(await page.getByRole("button", { name: "Rotate the signing key" }).count()).toBe(0);
    await context.close();
  });
});

describe("hostile and long names, at a phone's width", () => {
  it("a huge name, an Arabic name and markup in a name stay text and do not widen the page at 375 px", async () => {
    const long = `${"Grand-Festival-".repeat(13)}End`.slice(0, 200);
    const names = [long, "تذاكر مهرجان الربيع", `<img src=x onerror="document.title='owned'">`];
    const created = [];
    for (const name of names) created.push(await createSite(h, { name }, { name }));
    for (const lang of ["en", "ar"]) {
      const { context, page, problems } = await openConsole("admin@example.com", { width: 375, lang });
      const pages = [
        "",
        "apps",
        "users",
        "alerts",
        "keys",
        `callbacks/${site.appId}`,
        `analytics/${site.appId}`,
      ];
      for (const route of [...pages, ...created.flatMap((s) => [`apps/${s.appId}`, `live/${s.appId}`])]) {
        await go(page, route);
        await page.locator("main h1").first().waitFor();
        await page.waitForLoadState("networkidle");
        const width = await page.evaluate<number>("document.documentElement.scrollWidth");
        expect(width, `${lang} #/${route}`).toBeLessThanOrEqual(375);
      }
      expect(await page.title()).not.toBe("owned");
      expect(await page.locator("img[src=x]").count()).toBe(0);
      await go(page, `apps/${created[2]?.appId}`);
      await page.locator("h1", { hasText: "<img src=x" }).waitFor();
      expect(problems).toEqual([]);
      await context.close();
    }
  });
});

describe("accessibility of the other pages", () => {
  for (const lang of ["en", "ar"]) {
    for (const colorScheme of ["light", "dark"] as const) {
      // Axe on every page in turn takes longer than the default 30 s.
      it(`axe finds no serious violation: ${lang}, ${colorScheme}`, async () => {
        const { context, page, problems } = await openConsole("admin@example.com", { lang, colorScheme });
        for (const route of [`callbacks/${site.appId}`, "alerts", "users", "keys"]) {
          await go(page, route);
          await page.locator("main h1").first().waitFor();
          await page.waitForLoadState("networkidle");
          await page.locator("main table, main .muted").first().waitFor();
          expect(await seriousViolations(page), `#/${route}`).toEqual([]);
        }
        expect(problems).toEqual([]);
        await context.close();
      }, 120_000);
    }
  }
});

describe("the live view's polling and the session's language", () => {
  it("polls every 2 s, pauses while the tab is hidden and resumes when it shows again", async () => {
    const { context, page } = await openConsole("admin@example.com");
    let polls = 0;
    page.on("request", (request) => {
      if (request.url().includes("/dashboard/queue_stats")) polls++;
    });
    await go(page, `live/${site.appId}`);
    await page.locator(".live-queue").waitFor();
    await expect.poll(() => polls, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    // The tab is hidden (as a browser does when another tab is in front).
    await page.evaluate(`
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
      document.dispatchEvent(new Event("visibilitychange"));
    `);
    await page.getByText("Paused while this tab is hidden").waitFor();
    const whileHidden = polls;
    await page.waitForTimeout(5_000);
    expect(polls - whileHidden).toBeLessThanOrEqual(1); // at most the one already under way
    await page.evaluate(`
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "visible" });
      document.dispatchEvent(new Event("visibilitychange"));
    `);
    await page.getByText("Updates every 2 s").waitFor();
    await expect.poll(() => polls, { timeout: 10_000 }).toBeGreaterThan(whileHidden + 1);
    await context.close();
  });

  it("switching to Arabic keeps the session and turns the page right to left", async () => {
    const { context, page } = await openConsole("admin@example.com");
    await go(page, "apps");
    await page.locator("main h1", { hasText: "Applications" }).waitFor();
    await page.getByLabel("Language", { exact: true }).selectOption("ar");
    await page.locator("main h1", { hasText: "التطبيقات" }).waitFor();
    expect(await page.locator("html").getAttribute("dir")).toBe("rtl");
    expect(await page.locator("html").getAttribute("lang")).toBe("ar");
    expect(await page.locator("header nav").count()).toBe(1);
    await context.close();
  });

  it("the API's validation error names the field the operator got wrong", async () => {
    const { context, page } = await openConsole("admin@example.com");
    await go(page, `queues/${site.queueId}`);
    await page.getByLabel("Logo URL", { exact: true }).fill("http://insecure.example/logo.png");
    await page.getByRole("button", { name: "Save" }).click();
    const error = page.locator(".error");
    await error.waitFor();
    expect(await error.textContent()).toContain("Some input was not accepted.");
    expect(await error.textContent()).toContain("validation_failed (400)");
    expect(await error.textContent()).toContain("page.logo_url");
    await context.close();
  });
});

describe("rotating an application's keys", () => {
  it("shows the new API key once; the old one is refused from then on and the new one joins", async () => {
    const rotated = await createSite(h, {}, { name: "Rotating shop" });
    const { context, page, problems } = await openConsole("admin@example.com");
    await go(page, `apps/${rotated.appId}`);
    await page.getByRole("button", { name: "Rotate the API key" }).click();
    const shown = page.locator("[data-rotated]");
    await shown.waitFor();
    const newKey = (await shown.textContent()) ?? "";
    expect(newKey).toMatch(/^ak_/);
    expect(newKey).not.toBe(rotated.apiKey);
    await expect(join(h, rotated.apiKey, rotated.queueId, "with-the-old-key")).rejects.toThrow(/401/);
    expect((await join(h, newKey, rotated.queueId, "with-the-new-key")).status).toBe("waiting");
    expect(problems).toEqual([]);
    await context.close();
  });
});
