import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSite, type Harness, join, startHarness } from "../helpers/harness.js";
import { pageJoin, pageJoined, publishableKeyOf, releaseUntilOut } from "../helpers/page-join.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

async function pageSite(queue: Record<string, unknown> = {}, application: Record<string, unknown> = {}) {
  const site = await createSite(h, queue, application);
  return { ...site, key: await publishableKeyOf(h, site.appId) };
}

async function returnToOf(queueId: string, visitorId: string): Promise<string | null | undefined> {
  const row = await h.store.db
    .selectFrom("tickets")
    .select("return_to")
    .where("queue_id", "=", queueId)
    .where("visitor_id", "=", visitorId)
    .executeTakeFirst();
  return row?.return_to;
}

/** A join with the secret key (a site's server), with a body of the test's choosing. */
function serverJoin(apiKey: string, payload: Record<string, unknown>) {
  return h.app.inject({ method: "POST", url: "/join", headers: { "x-api-key": apiKey }, payload });
}

describe("return_to", () => {
  it("on the application's domain is kept on the ticket (without its fragment), with either key", async () => {
    const site = await pageSite();
    await pageJoined(h, {
      key: site.key,
      queueId: site.queueId,
      visitorId: "page",
      returnTo: "https://shop.example.com/checkout?cart=42#pay",
    });
    expect(await returnToOf(site.queueId, "page")).toBe("https://shop.example.com/checkout?cart=42");
    const server = await serverJoin(site.apiKey, {
      queue_id: site.queueId,
      visitor_id: "server",
      return_to: "https://SHOP.example.com/basket",
    });
    expect(server.statusCode).toBe(200);
    expect(await returnToOf(site.queueId, "server")).toBe("https://shop.example.com/basket");
    await join(h, site.apiKey, site.queueId, "none");
    expect(await returnToOf(site.queueId, "none")).toBeNull();
  });

  it.each([
    "https://evil.example/phish",
    "https://shop.example.com.evil.example/",
    "https://www.shop.example.com/",
    "http://shop.example.com/",
    "https://user:pass@shop.example.com/",
    "javascript:alert(1)",
    "/relative/path",
    "//shop.example.com/",
    `https://shop.example.com/${"x".repeat(2048)}`,
    "",
  ])(
    "off the domain or not an absolute https URL (%s) is a 400 naming return_to, storing nothing",
    async (returnTo) => {
      const site = await pageSite();
      const page = await pageJoin(h, { key: site.key, queueId: site.queueId, visitorId: "p", returnTo });
      const server = await serverJoin(site.apiKey, {
        queue_id: site.queueId,
        visitor_id: "s",
        return_to: returnTo,
      });
      for (const response of [page, server]) {
        expect(response.statusCode).toBe(400);
        expect(response.json()).toMatchObject({ error: { code: "validation_failed", field: "return_to" } });
      }
      const stored = await h.store.db
        .selectFrom("tickets")
        .select("id")
        .where("queue_id", "=", site.queueId)
        .execute();
      expect(stored).toHaveLength(0);
    },
  );

  it("may be on a subdomain under policy subdomains", async () => {
    const site = await pageSite({}, { origin_policy: "subdomains" });
    await pageJoined(h, {
      key: site.key,
      queueId: site.queueId,
      visitorId: "sub",
      origin: "https://www.shop.example.com",
      returnTo: "https://tickets.shop.example.com/seat",
    });
    expect(await returnToOf(site.queueId, "sub")).toBe("https://tickets.shop.example.com/seat");
  });

  it("of a visitor already in line stays the first join's", async () => {
    const site = await pageSite();
    const first = await pageJoined(h, {
      key: site.key,
      queueId: site.queueId,
      visitorId: "v",
      returnTo: "https://shop.example.com/first",
    });
    const again = await pageJoined(h, {
      key: site.key,
      queueId: site.queueId,
      visitorId: "v",
      returnTo: "https://shop.example.com/second",
    });
    expect(again.token).toBe(first.token);
    expect(await returnToOf(site.queueId, "v")).toBe("https://shop.example.com/first");
  });
});

describe("the released visitor's redirect_url", () => {
  it("is return_to carrying the admission token, on every released answer", async () => {
    const site = await pageSite({ redirect_url: "https://shop.example.com/default" });
    const joined = await pageJoined(h, {
      key: site.key,
      queueId: site.queueId,
      visitorId: "back",
      returnTo: "https://shop.example.com/checkout?cart=42",
    });
    const released = await releaseUntilOut(h, joined.token);
    expect(released.status).toBe("released");
    const token = released.access_token ?? "";
    expect(token).not.toBe("");
    const url = new URL(released.redirect_url ?? "");
    expect(`${url.origin}${url.pathname}`).toBe("https://shop.example.com/checkout");
    expect(url.searchParams.get("cart")).toBe("42");
    expect(url.searchParams.get("anteroom_token")).toBe(token);
    // A later poll (no longer the first sighting) says the same.
    const later = await h.app.inject({ method: "GET", url: `/queue_status?token=${joined.token}` });
    expect(later.json()).toMatchObject({ status: "released", redirect_url: released.redirect_url });
  });

  it("is the queue's redirect_url, else the domain's root, without a return_to", async () => {
    const withRedirect = await pageSite({ redirect_url: "https://shop.example.com/default" });
    const a = await pageJoined(h, { key: withRedirect.key, queueId: withRedirect.queueId, visitorId: "a" });
    const releasedA = await releaseUntilOut(h, a.token);
    expect(releasedA.redirect_url).toBe(
      `https://shop.example.com/default?anteroom_token=${releasedA.access_token ?? ""}`,
    );
    const plain = await pageSite();
    const b = await join(h, plain.apiKey, plain.queueId, "b");
    const releasedB = await releaseUntilOut(h, b.token);
    expect(releasedB.redirect_url).toBe(
      `https://shop.example.com/?anteroom_token=${releasedB.access_token ?? ""}`,
    );
  });

  it("is the same in the answer to a repeat join of the released visitor", async () => {
    const site = await pageSite();
    const joined = await pageJoined(h, {
      key: site.key,
      queueId: site.queueId,
      visitorId: "rec",
      returnTo: "https://shop.example.com/r",
    });
    const released = await releaseUntilOut(h, joined.token);
    // The same browser joining again (a reload): its released place, with the same redirect.
    const again = await pageJoined(h, { key: site.key, queueId: site.queueId, visitorId: "rec" });
    expect(again).toMatchObject({ status: "released", redirect_url: released.redirect_url });
  });
});
