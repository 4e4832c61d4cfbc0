import type { ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createRemoteJWKSet, jwtVerify } from "jose";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientBundle } from "../../src/http/client-bundle.js";
import arabic from "../../src/i18n/locales/ar.json" with { type: "json" };
import { html, launchBrowser, type Site, seriousViolations, startSite } from "../helpers/browser.js";
import { createSite, type Harness, join, startHarness } from "../helpers/harness.js";

/**
 * /scripts/queue.js in a real browser (Debian's Chromium): a site's page on loopback embeds the script
 * from the waiting room (another origin), is opened with ?queue_id=&visitor_id=, and joins by itself.
 * The page follows its place over the server's /queue_events stream (a stand-in room below checks the
 * offline and fallback paths).
 */
let h: Harness;
let base: string;
let site: Site;
let browser: Browser;
let appId: string;
let apiKey: string;
let queueId: string;
let others = 0;

/** The site's page: the one-line embed, in the language and theme the test asks for. */
function page(url: URL): string {
  const callback = url.searchParams.get("callback") ?? `${site.url}/ready`;
  const script = new URL(`${base}/scripts/queue.js`);
  script.searchParams.set("app_id", appId);
  script.searchParams.set("callback_url", callback);
  for (const name of ["lang", "theme"]) {
    const value = url.searchParams.get(name);
    if (value !== null) script.searchParams.set(name, value);
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Shop</title>
<script src="${script.toString().replaceAll("&", "&amp;")}"></script></head>
<body><main><h1>Shop</h1><p>Our products.</p></main></body></html>`;
}

beforeAll(async () => {
  h = await startHarness();
  await h.app.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  site = await startSite({
    "/shop": (_request, response, url) => html(response, page(url)),
    "/ready": (_request, response) =>
      html(
        response,
        `<!doctype html><html lang="en"><title>Ready</title><main><h1>Welcome</h1></main></html>`,
      ),
  });
  const created = await createSite(h, { max_users_per_minute: 60 }, { domain: "localhost" });
  ({ appId, apiKey, queueId } = created);
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await h?.close();
});

/** Visitors joined from the site's server, ahead of the browser's. */
async function othersAhead(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await join(h, apiKey, queueId, `other-${others++}`);
}

async function open(context: BrowserContext, visitor: string, query = ""): Promise<Page> {
  const tab = await context.newPage();
  await tab.goto(`${site.url}/shop?queue_id=${queueId}&visitor_id=${visitor}${query}`);
  return tab;
}

const position = (tab: Page) => tab.locator("[data-anteroom-overlay] .pos");
const message = (tab: Page) => tab.locator("[data-anteroom-overlay] h2");
const waiting = () => h.room.index.waitingCount(queueId);

/** Releases everyone waiting, a round a (manual) second. */
async function releaseAll(): Promise<void> {
  for (let i = 0; i < 30 && (await waiting()) > 0; i++) {
    h.clock.advance(1_000);
    await h.room.engine.releaseDue();
  }
}

describe("queue.js on a site's page", () => {
  it("joins by itself, shows the place and the estimate, follows it live and lands on the callback with a token the site verifies", async () => {
    await releaseAll();
    await othersAhead(3);
    const context = await browser.newContext();
    const asked: string[] = [];
    context.on("request", (request) => asked.push(new URL(request.url()).pathname));
    const tab = await open(context, "live-1");
    const dialog = tab.getByRole("dialog", { name: "You're in line" });
    await expect(dialog.isVisible()).resolves.toBe(true);
    await expect.poll(() => position(tab).textContent(), { timeout: 10_000 }).toBe("4");
    await expect(tab.getByText("3 people are ahead of you").isVisible()).resolves.toBe(true);
    await expect(tab.getByText(/^Estimated wait: /).textContent()).resolves.toMatch(
      /Estimated wait: (less than a minute|\d+ seconds?)/,
    );
    await expect(tab.getByRole("progressbar").getAttribute("aria-valuenow")).resolves.toBe("0");

    // Released ahead: the page follows without a reload.
    h.clock.advance(1_000);
    await h.room.engine.releaseDue();
    await expect
      .poll(async () => Number(await position(tab).textContent()), { timeout: 10_000 })
      .toBeLessThan(4);
    await expect(tab.getByRole("progressbar").getAttribute("aria-valuenow")).resolves.not.toBe("0");

    await releaseAll();
    await tab.waitForURL(/\/ready\?anteroom_token=/, { timeout: 15_000 });
    const token = new URL(tab.url()).searchParams.get("anteroom_token") ?? "";
    const jwks = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(token, jwks, {
      issuer: "anteroom-test",
      audience: queueId,
      currentDate: new Date(h.clock.now()),
    });
    expect(payload.sub).toBe("live-1");
    // Live: the server's own event stream carried every change; the page never polled.
    expect(asked).toContain("/queue_events");
    expect(asked).not.toContain("/queue_status");
    await context.close();
  });

  it("keeps one place across a reload and a second tab", async () => {
    await releaseAll();
    await othersAhead(2);
    const context = await browser.newContext();
    const tab = await open(context, "keeper");
    await expect.poll(() => position(tab).textContent(), { timeout: 10_000 }).toBe("3");
    expect(await waiting()).toBe(3);
    const kept = await tab.evaluate("JSON.stringify(localStorage)");

    await tab.reload();
    await expect.poll(() => position(tab).textContent(), { timeout: 10_000 }).toBe("3");
    const second = await open(context, "keeper");
    await expect.poll(() => position(second).textContent(), { timeout: 10_000 }).toBe("3");
    expect(await waiting()).toBe(3);
    expect(await second.evaluate("JSON.stringify(localStorage)")).toBe(kept);

    // Another browser with the same visitor id gets no place of its own (409), and shows why.
    const stranger = await browser.newContext();
    const other = await open(stranger, "keeper");
    await expect
      .poll(() => message(other).textContent(), {
        timeout: 10_000,
      })
      .toBe("You're already in line in another browser.");
    expect(await waiting()).toBe(3);
    await stranger.close();
    await context.close();
  });

  it("cancel frees the place, after asking", async () => {
    await releaseAll();
    await othersAhead(1);
    const context = await browser.newContext();
    const tab = await open(context, "leaver");
    await expect.poll(() => position(tab).textContent(), { timeout: 10_000 }).toBe("2");
    await tab.getByRole("button", { name: "Leave the line" }).click();
    await expect(tab.getByText("Leave the line? You will lose your place.").isVisible()).resolves.toBe(true);
    await expect(
      tab
        .getByRole("button", { name: "Stay in line" })
        .evaluate((element: { matches(selector: string): boolean }) => element.matches(":focus")),
    ).resolves.toBe(true);
    await tab.getByRole("button", { name: "Leave", exact: true }).click();
    await expect.poll(() => message(tab).textContent(), { timeout: 10_000 }).toBe("You left the line.");
    expect(await waiting()).toBe(1);
    await expect(tab.getByRole("button", { name: "Join again" }).isVisible()).resolves.toBe(true);
    await context.close();
  });

  it("refuses a callbackUrl on another site, before joining", async () => {
    const before = await waiting();
    const context = await browser.newContext();
    const tab = await open(
      context,
      "redirected",
      `&callback=${encodeURIComponent("https://evil.example/steal")}`,
    );
    await expect
      .poll(() => message(tab).textContent(), {
        timeout: 10_000,
      })
      .toMatch(/^This waiting room can't send you on/);
    expect(await waiting()).toBe(before);
    await context.close();
  });

  it("has no serious accessibility violation, in English and Arabic, light and dark; Arabic is right to left", async () => {
    await othersAhead(5);
    for (const lang of ["en", "ar"]) {
      for (const colorScheme of ["light", "dark"] as const) {
        const context = await browser.newContext({ colorScheme });
        const tab = await open(context, `axe-${lang}-${colorScheme}`, `&lang=${lang}`);
        await tab
          .locator("[data-anteroom-overlay] .ahead")
          .filter({ hasText: /\S/ })
          .waitFor({ timeout: 10_000 });
        await tab.emulateMedia({ colorScheme });
        expect(await seriousViolations(tab), `${lang} ${colorScheme}`).toEqual([]);
        const dialog = tab.getByRole("dialog");
        expect(await dialog.getAttribute("dir")).toBe(lang === "ar" ? "rtl" : "ltr");
        expect(await dialog.getAttribute("lang")).toBe(lang);
        if (lang === "ar")
          await expect(tab.getByRole("button", { name: "مغادرة الطابور" }).isVisible()).resolves.toBe(true);
        await context.close();
      }
    }
  });
});

/**
 * The same script against a stand-in waiting room that has /queue_events (Server-Sent Events, which the
 * server builds separately): the script follows the stream, never polls, shows when it is offline and
 * resumes when back. And wait.js on a page made to the hosted page's DOM contract.
 */
describe("live updates over SSE, and the hosted page's script", () => {
  let room: Site;
  let shop: Site;
  const streams: ServerResponse[] = [];
  let polls = 0;
  let connections = 0;
  const waitingAt = (place: number) => ({
    status: "waiting",
    position: place,
    users_ahead: place - 1,
    estimated_wait_seconds: place * 10,
    queue_size: 10,
    poll_after_seconds: 1,
  });
  let current: Record<string, unknown> = waitingAt(5);
  const push = (status: Record<string, unknown>) => {
    current = status;
    for (const stream of streams) stream.write(`event: status\ndata: ${JSON.stringify(status)}\n\n`);
  };
  const cors = { "access-control-allow-origin": "*", "access-control-allow-headers": "*" };
  const json = (response: ServerResponse, body: unknown) => {
    response.writeHead(200, { "content-type": "application/json", ...cors }).end(JSON.stringify(body));
  };

  beforeAll(async () => {
    const bundle = await clientBundle();
    const script = (body: Buffer) => (_request: unknown, response: ServerResponse) => {
      response.writeHead(200, { "content-type": "text/javascript; charset=utf-8", ...cors }).end(body);
    };
    room = await startSite({
      "/scripts/queue.js": script(bundle.queue.body),
      "/public/applications/app-1": (_request, response) =>
        json(response, { id: "app-1", publishable_key: "pk_x" }),
      "/join": (request, response) => {
        if (request.method === "OPTIONS") response.writeHead(204, cors).end();
        else json(response, { token: "tok-1", ...waitingAt(5) });
      },
      "/queue_status": (_request, response) => {
        polls++;
        json(response, current);
      },
      "/queue_events": (_request, response) => {
        connections++;
        response.writeHead(200, {
          "content-type": "text/event-stream",
          "cache-control": "no-store",
          ...cors,
        });
        response.write(`retry: 500\n\nid: 1\nevent: status\ndata: ${JSON.stringify(current)}\n\n`);
        streams.push(response);
        response.on("close", () => streams.splice(streams.indexOf(response), 1));
      },
    });
    shop = await startSite({
      "/shop": (_request, response) =>
        html(
          response,
          `<!doctype html><html lang="en"><head><title>Shop</title><script src="${room.url}/scripts/queue.js?app_id=app-1&amp;callback_url=${encodeURIComponent("/ready")}"></script></head><body><main><h1>Shop</h1></main></body></html>`,
        ),
      "/ready": (_request, response) =>
        html(response, "<!doctype html><title>Ready</title><main>ready</main>"),
      // A site that draws its own UI: QueueManager made by hand with ?opts= (JSON options), its events kept
      // in window.events; ?stop=false|prevent: the 'released' handler returns false or calls preventDefault().
      "/custom": (_request, response) =>
        html(
          response,
          `<!doctype html><html lang="en"><head><title>Shop</title><script src="${room.url}/scripts/queue.js"></script></head><body><main><h1>Shop</h1></main>
<script>
const query = new URLSearchParams(location.search);
window.events = [];
const manager = new QueueManager({ appId: "app-1", callbackUrl: "/ready", ...JSON.parse(query.get("opts") || "{}") });
for (const name of ["update", "released", "error"]) {
  manager.on(name, (event) => {
    window.events.push({ name, status: event.status, position: event.position, token: event.token, access_token: event.access_token, url: event.url, code: event.code });
    if (name !== "released") return;
    if (query.get("stop") === "prevent") event.preventDefault();
    if (query.get("stop") === "false") return false;
  });
}
manager.joinQueue("q-1", query.get("visitor") || "v-custom");
</script></body></html>`,
        ),
      "/scripts/wait.js": script(bundle.wait.body),
      "/wait": (_request, response) => html(response, hostedPage()),
      "/queue_status": (_request, response) => {
        polls++;
        json(response, current);
      },
    });
  });

  afterAll(async () => {
    for (const stream of streams) stream.end();
    await room?.close();
    await shop?.close();
  });

  it("follows /queue_events without polling, says when offline, resumes when back, and goes on when released", async () => {
    polls = 0;
    current = waitingAt(5);
    const context = await browser.newContext();
    const tab = await context.newPage();
    await tab.goto(`${shop.url}/shop?queue_id=q-1&visitor_id=v-1`);
    await expect.poll(() => position(tab).textContent(), { timeout: 10_000 }).toBe("5");
    push(waitingAt(3));
    await expect.poll(() => position(tab).textContent(), { timeout: 5_000 }).toBe("3");

    await context.setOffline(true);
    const line = tab.locator("[data-anteroom-overlay] .conn");
    await expect
      .poll(() => line.textContent(), { timeout: 5_000 })
      .toBe("You're offline. Your place is kept.");
    const before = connections;
    current = waitingAt(2);
    await context.setOffline(false);
    await expect.poll(() => position(tab).textContent(), { timeout: 10_000 }).toBe("2");
    expect(connections).toBeGreaterThan(before);
    await expect.poll(() => line.isHidden(), { timeout: 5_000 }).toBe(true);

    push({
      ...waitingAt(1),
      status: "released",
      position: null,
      users_ahead: null,
      poll_after_seconds: null,
      access_token: "a.b.c",
      redirect_url: `${shop.url}/ready?anteroom_token=a.b.c`,
    });
    await tab.waitForURL(`${shop.url}/ready?anteroom_token=a.b.c`, { timeout: 10_000 });
    expect(polls).toBe(0);
    await context.close();
  });

  type Seen = {
    name: string;
    status?: string;
    position?: number | null;
    token?: string;
    access_token?: string;
    url?: string;
  };
  const seen = (tab: Page) => tab.evaluate("window.events") as Promise<Seen[]>;
  const custom = (context: BrowserContext, query: Record<string, string>) =>
    context.newPage().then(async (tab) => {
      await tab.goto(`${shop.url}/custom?${new URLSearchParams(query)}`);
      return tab;
    });
  const released = () => ({
    ...waitingAt(1),
    status: "released",
    position: null,
    users_ahead: null,
    poll_after_seconds: null,
    access_token: "r.s.t",
    redirect_url: `${shop.url}/ready?anteroom_token=r.s.t`,
  });

  it("render: false draws no overlay, and 'update' events carry the status and the token", async () => {
    current = waitingAt(5);
    const context = await browser.newContext();
    const tab = await custom(context, { opts: JSON.stringify({ render: false }), visitor: "v-events" });
    // One 'update' for the join's answer and one for each status after it (the stream's first repeats it).
    const positions = async () => (await seen(tab)).map((event) => `${event.name} ${event.position}`);
    await expect.poll(positions, { timeout: 10_000 }).toContain("update 5");
    push(waitingAt(3));
    await expect.poll(async () => (await positions()).at(-1), { timeout: 5_000 }).toBe("update 3");
    expect(new Set(await positions())).toEqual(new Set(["update 5", "update 3"]));
    const events = await seen(tab);
    expect(events.every((event) => event.status === "waiting" && event.token === "tok-1")).toBe(true);
    expect(await tab.locator("[data-anteroom-overlay]").count()).toBe(0);
    // Nothing of the page is made inert or unscrollable when the site draws its own UI.
    expect(await tab.evaluate("document.querySelectorAll('[inert]').length")).toBe(0);
    await expect(tab.getByRole("heading", { name: "Shop" }).isVisible()).resolves.toBe(true);
    await context.close();
  });

  it("a 'released' handler that returns false or calls preventDefault() keeps the page where it is, with the token", async () => {
    current = waitingAt(2);
    const contexts = [await browser.newContext(), await browser.newContext()];
    const tabs = await Promise.all(
      ["false", "prevent"].map((stop, index) =>
        custom(contexts[index] as BrowserContext, { stop, visitor: `v-stay-${stop}` }),
      ),
    );
    for (const tab of tabs)
      await expect.poll(() => position(tab).textContent(), { timeout: 10_000 }).toBe("2");
    push(released());
    for (const tab of tabs) {
      await expect
        .poll(async () => (await seen(tab)).find((event) => event.name === "released"), { timeout: 5_000 })
        .toMatchObject({ status: "released", access_token: "r.s.t", url: released().redirect_url });
      // The overlay says it is the visitor's turn and offers the way on, without going there.
      await expect.poll(() => message(tab).textContent(), { timeout: 5_000 }).toBe("It's your turn!");
      await expect(tab.getByRole("link", { name: "Continue" }).getAttribute("href")).resolves.toBe(
        released().redirect_url,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const tab of tabs) expect(new URL(tab.url()).pathname).toBe("/custom");
    for (const context of contexts) await context.close();
  });

  it("theme 'auto' follows the system's colour scheme, as it changes", async () => {
    current = waitingAt(4);
    const context = await browser.newContext({ colorScheme: "light" });
    const tab = await custom(context, { opts: JSON.stringify({ theme: "auto" }), visitor: "v-auto" });
    await expect.poll(() => position(tab).textContent(), { timeout: 10_000 }).toBe("4");
    const background = () =>
      tab.evaluate(
        `getComputedStyle(document.querySelector("[data-anteroom-overlay]").shadowRoot.querySelector(".card")).backgroundColor`,
      );
    await expect(tab.locator("[data-anteroom-overlay]").getAttribute("data-theme")).resolves.toBe("auto");
    expect(await background()).toBe("rgb(255, 255, 255)");
    await tab.emulateMedia({ colorScheme: "dark" });
    expect(await background()).toBe("rgb(23, 26, 33)");
    await tab.emulateMedia({ colorScheme: "light" });
    expect(await background()).toBe("rgb(255, 255, 255)");
    await context.close();
  });

  it("wait.js updates the hosted page in place, announces, and goes on when released", async () => {
    polls = 0;
    current = waitingAt(2);
    const context = await browser.newContext();
    const tab = await context.newPage();
    await tab.goto(`${shop.url}/wait`);
    const part = (name: string) => tab.locator(`[data-anteroom="${name}"]`);
    await expect.poll(() => part("ahead").textContent(), { timeout: 10_000 }).toBe("شخص واحد أمامك");
    expect(polls).toBeGreaterThan(0);
    await expect(part("progress").getAttribute("aria-valuenow")).resolves.toBe("50");
    await expect(part("live").textContent()).resolves.toContain("ترتيبك في الطابور");
    current = {
      ...waitingAt(1),
      status: "released",
      position: null,
      users_ahead: null,
      poll_after_seconds: null,
      access_token: "x.y.z",
      redirect_url: `${shop.url}/ready?anteroom_token=x.y.z`,
    };
    await tab.waitForURL(`${shop.url}/ready?anteroom_token=x.y.z`, { timeout: 10_000 });
    await context.close();
  });

  /** A page made to the DOM contract of the hosted waiting page (docs: visitor contract). */
  function hostedPage(): string {
    const state = {
      token: "tok-w",
      status: waitingAt(4),
      lang: "ar",
      queue_id: "q-1",
      strings: Object.fromEntries(
        Object.entries(arabic.visitor).map(([key, value]) => [`visitor.${key}`, value]),
      ),
    };
    return `<!doctype html><html lang="ar" dir="rtl"><head><title>انتظار</title>
<script type="application/json" id="anteroom-state">${JSON.stringify(state).replaceAll("<", "\\u003c")}</script>
<script src="/scripts/wait.js" defer></script></head>
<body><main data-anteroom="state" data-status="waiting"><h1>أنت في قائمة الانتظار</h1>
<p data-anteroom="position">4</p><p data-anteroom="ahead">3 أشخاص أمامك</p><p data-anteroom="wait">…</p>
<div data-anteroom="progress" role="progressbar" aria-valuenow="0" aria-label="تقدّمك في الطابور"><div data-anteroom="bar"></div></div>
<div data-anteroom="live" aria-live="polite"></div></main></body></html>`;
  }
});
