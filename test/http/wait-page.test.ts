import { randomInt } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { LightMyRequestResponse } from "fastify";
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VisitorStatus } from "../../src/domain/visitor-status.js";
import { renderWaitPage } from "../../src/http/pages/wait-page.js";
import { translator } from "../../src/i18n/index.js";
import { createSite, type Harness, join, startHarness } from "../helpers/harness.js";
import { releaseUntilOut } from "../helpers/page-join.js";

let h: Harness;
beforeAll(async () => {
  // Page joins limited to 10 per 10 s per address; each "browser" below has an address of its own.
  h = await startHarness({ trustProxy: "127.0.0.1", rateLimits: { pageJoinsPerSecond: 1 } });
});
afterAll(() => h.close());

const RETURN_TO = "https://shop.example.com/checkout?cart=7";
const HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/** A browser: an address of its own, and the cookies it was given. */
class Browser {
  readonly address = `10.${randomInt(255)}.${randomInt(255)}.${randomInt(1, 255)}`;
  cookie: string | undefined;

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const response = await h.app.inject({
      method: "GET",
      url,
      remoteAddress: this.address,
      headers: { accept: HTML, ...(this.cookie === undefined ? {} : { cookie: this.cookie }), ...headers },
    });
    this.keep(response);
    return response;
  }

  async post(url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
    const response = await h.app.inject({
      method: "POST",
      url,
      remoteAddress: this.address,
      headers: {
        accept: HTML,
        "content-type": "application/x-www-form-urlencoded",
        ...(this.cookie === undefined ? {} : { cookie: this.cookie }),
        ...headers,
      },
      payload: new URLSearchParams(form).toString(),
    });
    this.keep(response);
    return response;
  }

  private keep(response: LightMyRequestResponse): void {
    const set = response.headers["set-cookie"];
    const first = Array.isArray(set) ? set[0] : set;
    if (first !== undefined) this.cookie = first.split(";")[0];
  }
}

interface PageState {
  token: string;
  status: VisitorStatus;
  lang: string;
  queue_id: string;
  strings: Record<string, string>;
}

function stateOf(html: string): PageState {
  const json = /<script type="application\/json" id="anteroom-state">(.*?)<\/script>/s.exec(html)?.[1];
  if (json === undefined) throw new Error(`no state in ${html.slice(0, 400)}`);
  return JSON.parse(json) as PageState;
}

function textOf(html: string, name: string): string | undefined {
  const match = new RegExp(`data-anteroom="${name}"[^>]*>([^<]*)<`).exec(html);
  return match?.[1];
}

async function site(application: Record<string, unknown> = {}, queue: Record<string, unknown> = {}) {
  return createSite(h, queue, application);
}

describe("GET /wait/{queue_id}: the first visit", () => {
  it("joins, and keeps the place in an HttpOnly, SameSite=Lax cookie scoped to the queue's page", async () => {
    const { queueId } = await site();
    const browser = new Browser();
    const response = await browser.get(`/wait/${queueId}?return_to=${encodeURIComponent(RETURN_TO)}`);
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(response.headers["cache-control"]).toBe("no-store");
    const cookie = String(response.headers["set-cookie"]);
    expect(cookie).toMatch(new RegExp(`^anteroom_wait_${queueId}=[^;]+;`));
    expect(cookie).toContain(`Path=/wait/${queueId}`);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Lax");
    expect(cookie).not.toContain("Secure"); // plain http
    const state = stateOf(response.body);
    expect(state).toMatchObject({
      lang: "en",
      queue_id: queueId,
      status: { status: "waiting", position: 1 },
    });
    expect(state.strings.title).toBe("You're in line");
    expect(textOf(response.body, "position")).toBe("1");
    expect(textOf(response.body, "ahead")).toBe("No one is ahead of you");
    expect(response.body).toContain('<main data-anteroom="state" data-status="waiting">');
    expect(response.body).toMatch(
      /<noscript><meta http-equiv="refresh" content="\d+"><\/noscript>|<meta http-equiv="refresh" content="\d+">/,
    );
    expect(response.body).toContain(`<form class="actions" method="post" action="/wait/${queueId}/cancel">`);
    expect(response.body).toContain('aria-live="polite"');
    expect(response.body).toMatch(/role="progressbar"[^>]*aria-valuenow="\d+"/);
  });

  it("marks the cookie Secure when the request came over https (through a trusted proxy)", async () => {
    const { queueId } = await site();
    const response = await h.app.inject({
      method: "GET",
      url: `/wait/${queueId}`,
      remoteAddress: "127.0.0.1",
      headers: { "x-forwarded-proto": "https", accept: HTML },
    });
    expect(response.statusCode).toBe(200);
    expect(String(response.headers["set-cookie"])).toContain("; Secure");
  });

  it("a refresh and a second tab keep one place; another browser gets a place of its own", async () => {
    const { queueId } = await site();
    const first = new Browser();
    const page = await first.get(`/wait/${queueId}`);
    const token = stateOf(page.body).token;
    const refreshed = await first.get(`/wait/${queueId}`);
    expect(refreshed.headers["set-cookie"]).toBeUndefined();
    expect(stateOf(refreshed.body)).toMatchObject({ token, status: { position: 1, queue_size: 1 } });
    const tab = new Browser();
    tab.cookie = first.cookie;
    const second = await tab.get(`/wait/${queueId}?lang=ar`);
    expect(stateOf(second.body)).toMatchObject({ token, status: { position: 1, queue_size: 1 } });
    const other = new Browser();
    const otherPage = await other.get(`/wait/${queueId}`);
    const otherState = stateOf(otherPage.body);
    expect(otherState.token).not.toBe(token);
    expect(otherState.status).toMatchObject({ position: 2, users_ahead: 1, queue_size: 2 });
    expect(textOf(otherPage.body, "ahead")).toBe("1 person is ahead of you");
  });

  it("a tampered or foreign cookie is a fresh join, not an error", async () => {
    const { queueId } = await site();
    const browser = new Browser();
    await browser.get(`/wait/${queueId}`);
    const original = stateOf((await browser.get(`/wait/${queueId}`)).body).token;
    const [name, value = ""] = (browser.cookie ?? "").split("=");
    const parts = value.split(".");
    for (const tampered of [
      `${name}=${parts.slice(0, 2).join(".")}.${"A".repeat(32)}.${parts.slice(3).join(".")}`, // device swapped
      `${name}=${parts.slice(0, 3).join(".")}.999.${parts.slice(4).join(".")}`, // start changed
      `${name}=${value.slice(0, -2)}xx`,
      `${name}=garbage`,
      `${name}=${"x".repeat(4000)}`,
      `${name}=1.....`,
    ]) {
      const visitor = new Browser();
      visitor.cookie = tampered;
      const response = await visitor.get(`/wait/${queueId}`);
      expect(response.statusCode, tampered.slice(0, 80)).toBe(200);
      expect(response.headers["set-cookie"]).toBeDefined();
      expect(stateOf(response.body).token).not.toBe(original);
    }
  });
});

describe("return_to", () => {
  it("a foreign return_to is refused: a 400 page for browsers, the JSON error for others", async () => {
    const { queueId } = await site();
    for (const foreign of [
      "https://evil.example/",
      "https://shop.example.com.evil.example/",
      "javascript:alert(1)",
    ]) {
      const page = await new Browser().get(`/wait/${queueId}?return_to=${encodeURIComponent(foreign)}`);
      expect(page.statusCode).toBe(400);
      expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(page.body).toContain('data-error="validation_failed"');
      expect(page.body).toContain("part of this site");
      expect(page.headers["set-cookie"]).toBeUndefined();
    }
    const json = await h.app.inject({
      method: "GET",
      url: `/wait/${queueId}?return_to=${encodeURIComponent("https://evil.example/")}`,
    });
    expect(json.statusCode).toBe(400);
    expect(json.json()).toMatchObject({ error: { code: "validation_failed", field: "return_to" } });
    const size = await h.app.inject({ method: "GET", url: `/wait/${queueId}` });
    expect(stateOf(size.body).status.queue_size).toBe(1); // only this last visit joined
  });

  it("once released, the page answers 303 to return_to with an admission token the JWKS verifies", async () => {
    const { queueId } = await site();
    const browser = new Browser();
    const page = await browser.get(`/wait/${queueId}?return_to=${encodeURIComponent(RETURN_TO)}`);
    await releaseUntilOut(h, stateOf(page.body).token);
    const released = await browser.get(`/wait/${queueId}?return_to=${encodeURIComponent(RETURN_TO)}`);
    expect(released.statusCode).toBe(303);
    const location = new URL(String(released.headers.location));
    expect(`${location.origin}${location.pathname}`).toBe("https://shop.example.com/checkout");
    expect(location.searchParams.get("cart")).toBe("7");
    const token = location.searchParams.get("anteroom_token") ?? "";
    const jwks = await h.app.inject({ method: "GET", url: "/.well-known/jwks.json" });
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks.json<JSONWebKeySet>()));
    expect(payload.exp).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(released.headers["referrer-policy"]).toBe("no-referrer");
  });

  it("without return_to (and no redirect URL on the queue), a released visitor sees it's their turn", async () => {
    const { queueId } = await site();
    const browser = new Browser();
    const page = await browser.get(`/wait/${queueId}`);
    await releaseUntilOut(h, stateOf(page.body).token);
    const released = await browser.get(`/wait/${queueId}`);
    expect(released.statusCode).toBe(200);
    expect(released.body).toContain('data-status="released"');
    expect(released.body).toContain("It's your turn!");
    expect(released.body).toMatch(/href="https:\/\/shop\.example\.com\/\?anteroom_token=[^"]+"/);
    expect(released.body).not.toContain('http-equiv="refresh"');
  });
});

describe("cancel", () => {
  it("the page's form frees the place; the visitor behind moves up; the page offers to join again", async () => {
    const { queueId } = await site();
    const first = new Browser();
    await first.get(`/wait/${queueId}?lang=en&theme=dark`);
    const second = new Browser();
    expect(stateOf((await second.get(`/wait/${queueId}`)).body).status.position).toBe(2);
    const cancelled = await first.post(
      `/wait/${queueId}/cancel`,
      { lang: "en", theme: "dark" },
      { origin: "http://localhost:80", host: "localhost:80" },
    );
    expect(cancelled.statusCode).toBe(303);
    expect(cancelled.headers.location).toBe(`/wait/${queueId}?lang=en&theme=dark`);
    const after = await first.get(String(cancelled.headers.location));
    expect(after.body).toContain('data-status="cancelled"');
    expect(after.body).toContain("You left the line.");
    expect(after.body).toContain(`href="/wait/${queueId}?lang=en&#38;theme=dark&#38;rejoin=1"`);
    expect(stateOf((await second.get(`/wait/${queueId}`)).body).status.position).toBe(1);
    // Join again: a new place at the back, then the address without `rejoin`.
    const again = await first.get(`/wait/${queueId}?lang=en&theme=dark&rejoin=1`);
    expect(again.statusCode).toBe(303);
    expect(again.headers.location).toBe(`/wait/${queueId}?lang=en&theme=dark`);
    const rejoined = await first.get(String(again.headers.location));
    expect(stateOf(rejoined.body).status).toMatchObject({ status: "waiting", position: 2 });
  });

  it("same-origin posts by Sec-Fetch-Site are taken; cross-site ones are refused and the place stays", async () => {
    const { queueId } = await site();
    const browser = new Browser();
    await browser.get(`/wait/${queueId}`);
    const attempts: Record<string, string>[] = [
      { origin: "https://evil.example" },
      { origin: "null" },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
    ];
    for (const headers of attempts) {
      const refused = await browser.post(`/wait/${queueId}/cancel`, {}, headers);
      expect(refused.statusCode, JSON.stringify(headers)).toBe(403);
      expect(refused.body).toContain('data-error="forbidden"');
    }
    expect(stateOf((await browser.get(`/wait/${queueId}`)).body).status.status).toBe("waiting");
    const same = await browser.post(`/wait/${queueId}/cancel`, {}, { "sec-fetch-site": "same-origin" });
    expect(same.statusCode).toBe(303);
    expect((await browser.get(`/wait/${queueId}`)).body).toContain('data-status="cancelled"');
  });

  it("without a place in this browser, a cancel changes nothing", async () => {
    const { queueId } = await site();
    const response = await new Browser().post(`/wait/${queueId}/cancel`, {});
    expect(response.statusCode).toBe(401);
    expect(response.body).toContain('data-error="invalid_token"');
  });
});

describe("language", () => {
  it("lang, else Accept-Language (q-values, ar-EG), else English", async () => {
    const { queueId } = await site();
    const browser = new Browser();
    const english = await browser.get(`/wait/${queueId}`);
    expect(english.body).toContain('<html lang="en" dir="ltr"');
    const accept = await browser.get(`/wait/${queueId}`, {
      "accept-language": "fr;q=0.9, ar-EG;q=0.8, en;q=0.1",
    });
    expect(accept.body).toContain('<html lang="ar" dir="rtl"');
    const query = await browser.get(`/wait/${queueId}?lang=en`, { "accept-language": "ar" });
    expect(query.body).toContain('<html lang="en" dir="ltr"');
    const unknown = await browser.get(`/wait/${queueId}?lang=fr`, { "accept-language": "ar" });
    expect(unknown.body).toContain('<html lang="ar" dir="rtl"');
  });

  it("Arabic: right to left, Arabic text and the right plural for the people ahead", async () => {
    const { queueId, apiKey } = await site();
    for (let i = 0; i < 11; i++) await join(h, apiKey, queueId, `ahead-${i}`);
    const page = await new Browser().get(`/wait/${queueId}?lang=ar&theme=dark`);
    expect(page.body).toContain('<html lang="ar" dir="rtl" data-theme="dark">');
    const ar = translator("ar");
    expect(textOf(page.body, "ahead")).toBe(`${ar.number(11)} شخصًا أمامك`); // many
    expect(textOf(page.body, "position")).toBe(ar.number(12));
    expect(page.body).toContain("أنت في قائمة الانتظار");
    expect(stateOf(page.body).strings.ahead_two).toBe("شخصان أمامك");
    // The stylesheet uses logical properties only.
    const style = /<style nonce="[^"]+">(.*?)<\/style>/s.exec(page.body)?.[1] ?? "";
    expect(style).not.toMatch(
      /(margin|padding|border)-(left|right)|[^-]left:|[^-]right:|text-align:(left|right)/,
    );
  });

  it("the queue's page settings: title and message by language, logo, accent with readable text", async () => {
    const { queueId } = await site(
      {},
      {
        page: {
          title: { en: "Big <sale>", ar: "التخفيضات الكبرى" },
          message: { en: "Hold tight & stay" },
          logo_url: "https://cdn.example.com/logo.png",
          accent_color: "#FFD400",
        },
      },
    );
    const en = await new Browser().get(`/wait/${queueId}`);
    expect(en.body).toContain("<h1>Big &#60;sale&#62;</h1>");
    expect(en.body).toContain("Hold tight &#38; stay");
    expect(en.body).toContain('<img class="logo" src="https://cdn.example.com/logo.png" alt="">');
    expect(en.body).toMatch(/--accent:#ffd400;--on-accent:#111418/);
    const ar = await new Browser().get(`/wait/${queueId}?lang=ar`);
    expect(ar.body).toContain("<h1>التخفيضات الكبرى</h1>");
    expect(ar.body).toContain("Hold tight &#38; stay"); // no Arabic message: English's
  });
});

describe("security headers", () => {
  it("a strict CSP whose nonce is the style's; nosniff and no-referrer everywhere", async () => {
    const { queueId } = await site();
    const page = await new Browser().get(`/wait/${queueId}`);
    const csp = String(page.headers["content-security-policy"]);
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`script-src 'self' 'nonce-${nonce}'`);
    expect(csp).toContain(`style-src 'self' 'nonce-${nonce}'`);
    expect(csp).toContain("img-src 'self' https: data:");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).toContain("form-action 'self' https://shop.example.com");
    expect(csp).toContain("frame-ancestors https://shop.example.com");
    expect(page.body).toContain(`<style nonce="${nonce}">`);
    // The enhancement script is served by this origin under its content hash, with the response's nonce.
    expect(page.body).toMatch(/<script src="\/scripts\/wait\.[0-9a-f]{12}\.js"[^>]* nonce="[^"]+"/);
    expect(
      page.body
        .match(/<script(?![^>]*type="application\/json")[^>]*>/g)
        ?.every((tag) => tag.includes(`nonce="${nonce}"`)),
    ).toBe(true);
    expect(page.headers["x-frame-options"]).toBeUndefined();
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    expect(page.headers["referrer-policy"]).toBe("no-referrer");
    const again = await new Browser().get(`/wait/${queueId}`);
    expect(String(again.headers["content-security-policy"])).not.toContain(`'nonce-${nonce}'`);
    const json = await h.app.inject({ method: "GET", url: "/health" });
    expect(json.headers["x-content-type-options"]).toBe("nosniff");
    expect(json.headers["referrer-policy"]).toBe("no-referrer");
  });

  it("the enhancement script carries the response's nonce", () => {
    const html = renderWaitPage({
      t: translator("en"),
      theme: "auto",
      nonce: "abc123",
      page: null,
      queueId: "q",
      token: "t",
      status: {
        status: "waiting",
        position: 3,
        users_ahead: 2,
        estimated_wait_seconds: 180,
        queue_size: 3,
        poll_after_seconds: 5,
      },
      startPosition: 5,
      refreshSeconds: 5,
      scriptSrc: "/scripts/wait.0123abcd.js",
      params: { lang: "en", theme: "auto" },
      rejoinUrl: "/wait/q?rejoin=1",
    });
    expect(html).toContain('<script src="/scripts/wait.0123abcd.js" nonce="abc123" defer></script>');
    expect(html).toContain('<noscript><meta http-equiv="refresh" content="5"></noscript>');
    expect(html).toContain("--anteroom-progress:40%");
    expect(html).toContain('aria-valuenow="40"');
    expect(html).toContain("Estimated wait: 3 minutes");
  });

  it("frame-ancestors comes from the application's setting", async () => {
    const { queueId } = await site({ frame_ancestors: "https://partner.example 'self'" });
    const page = await new Browser().get(`/wait/${queueId}`);
    expect(String(page.headers["content-security-policy"])).toContain(
      "frame-ancestors https://partner.example 'self'",
    );
  });

  it("the state JSON cannot close its script tag", async () => {
    const { queueId } = await site({}, { page: { title: { en: "</script><script>alert(1)</script>" } } });
    const page = await new Browser().get(`/wait/${queueId}`);
    expect(page.body).not.toContain("<script>alert(1)");
  });
});

describe("bad requests", () => {
  it("huge or malformed parameters are 4xx with a stable code, never a crash", async () => {
    const { queueId } = await site();
    const cases: [string, number, string][] = [
      [`/wait/${queueId}?return_to=${"a".repeat(5000)}`, 400, "validation_failed"],
      [`/wait/${queueId}?return_to=https://shop.example.com/${"a".repeat(3000)}`, 400, "validation_failed"],
      [`/wait/${queueId}?theme=purple`, 400, "validation_failed"],
      [`/wait/${queueId}?lang=${"x".repeat(100)}`, 400, "validation_failed"],
      [`/wait/${queueId}?lang=%3Cscript%3E`, 400, "validation_failed"],
      [`/wait/${queueId}?return_to=a&return_to=b`, 400, "validation_failed"],
      [`/wait/${queueId}?rejoin=yes`, 400, "validation_failed"],
      ["/wait/not-a-uuid", 400, "validation_failed"],
      ["/wait/00000000-0000-4000-8000-000000000000", 404, "not_found"],
      [`/wait/${queueId}/elsewhere`, 404, "not_found"],
    ];
    for (const [url, status, code] of cases) {
      const response = await h.app.inject({ method: "GET", url });
      expect(response.statusCode, url.slice(0, 80)).toBe(status);
      expect(response.json(), url.slice(0, 80)).toMatchObject({ error: { code } });
      const page = await new Browser().get(url);
      expect(page.statusCode).toBe(status);
      if (page.headers["content-type"] === "text/html; charset=utf-8") {
        expect(page.body).toContain(`data-error="${code}"`);
      }
    }
    const odd = await new Browser().get(`/wait/${queueId}?return_to=%E0%A4%A&lang=%ZZ`);
    expect(odd.statusCode).toBeLessThan(500);
  });

  it("page joins are limited per client address", async () => {
    const { queueId } = await site();
    const address = "10.250.250.250";
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const response = await h.app.inject({
        method: "GET",
        url: `/wait/${queueId}?lang=ar`,
        remoteAddress: address,
        headers: { accept: HTML },
      });
      statuses.push(response.statusCode);
      if (response.statusCode === 429) {
        expect(response.headers["retry-after"]).toBeDefined();
        expect(response.body).toContain('data-error="rate_limited"');
        expect(response.body).toContain("طلبات كثيرة جدًا");
        expect(response.body).toMatch(/<meta http-equiv="refresh" content="\d+">/);
      }
    }
    expect(statuses.slice(0, 10).every((status) => status === 200)).toBe(true);
    expect(statuses[10]).toBe(429);
  });

  it("a HEAD request never joins", async () => {
    const { queueId } = await site();
    const head = await h.app.inject({ method: "HEAD", url: `/wait/${queueId}` });
    expect(head.statusCode).toBe(404);
    const page = await new Browser().get(`/wait/${queueId}`);
    expect(stateOf(page.body).status.queue_size).toBe(1);
  });
});

describe("visitor-facing API errors in the visitor's language", () => {
  it("Accept-Language: ar turns the message Arabic; the code stays", async () => {
    const { queueId } = await site();
    const join = await h.app.inject({
      method: "POST",
      url: "/join",
      headers: { "accept-language": "ar-EG,ar;q=0.9" },
      payload: { queue_id: queueId, visitor_id: "v" },
    });
    expect(join.statusCode).toBe(401);
    expect(join.json()).toMatchObject({
      error: { code: "invalid_api_key", message: "غرفة الانتظار هذه غير مُعدّة بشكل صحيح." },
    });
    const english = await h.app.inject({ method: "POST", url: "/cancel", payload: { token: "nope" } });
    expect(english.json()).toMatchObject({ error: { code: "invalid_token" } });
    expect(english.json<{ error: { message: string } }>().error.message).toMatch(/token/);
    const status = await h.app.inject({
      method: "GET",
      url: "/queue_status?token=nope",
      headers: { "accept-language": "ar" },
    });
    expect(status.json()).toMatchObject({
      error: { code: "invalid_token", message: "تعذّر العثور على مكانك في الطابور. يُرجى الانضمام مرة أخرى." },
    });
    const unknown = await h.app.inject({
      method: "GET",
      url: "/public/applications/00000000-0000-4000-8000-000000000000",
      headers: { "accept-language": "ar" },
    });
    expect(unknown.json()).toMatchObject({
      error: { code: "not_found", message: "غرفة الانتظار هذه غير موجودة." },
    });
    // Admin routes keep the API's English.
    const admin = await h.app.inject({
      method: "GET",
      url: "/queues/",
      headers: { "accept-language": "ar" },
    });
    expect(admin.json<{ error: { message: string } }>().error.message).not.toMatch(/[\u0600-\u06ff]/);
  });

  it("the status fast path (a real socket) speaks Arabic too, and sends nosniff and no-referrer", async () => {
    await h.app.listen({ port: 0, host: "127.0.0.1" });
    {
      const { port } = h.app.server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/queue_status?token=bad`, {
        headers: { "accept-language": "ar" },
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({
        error: {
          code: "invalid_token",
          message: "تعذّر العثور على مكانك في الطابور. يُرجى الانضمام مرة أخرى.",
        },
      });
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("referrer-policy")).toBe("no-referrer");
      const english = await fetch(`http://127.0.0.1:${port}/queue_status?token=bad`);
      expect(((await english.json()) as { error: { message: string } }).error.message).toMatch(/token/);
    }
  });
});
