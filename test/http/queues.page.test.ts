import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appBody, type Harness, type Json, startHarness } from "../helpers/harness.js";

let h: Harness;
let admin: { authorization: string };
let appId: string;
let queueId: string;

beforeAll(async () => {
  h = await startHarness();
  admin = await h.login("admin@example.com");
  const app = await h.app.inject({
    method: "POST",
    url: "/applications/",
    headers: admin,
    payload: appBody(),
  });
  appId = app.json<{ id: string }>().id;
  const queue = await h.app.inject({
    method: "POST",
    url: "/queues/",
    headers: admin,
    payload: { application_id: appId, name: "Main", max_users_per_minute: 60 },
  });
  queueId = queue.json<{ id: string }>().id;
});
afterAll(() => h.close());

const PAGE = {
  title: { en: "Ticket sale", ar: "بيع التذاكر", "pt-BR": "Venda de ingressos" },
  message: { en: "Thanks for waiting." },
  logo_url: "https://cdn.example.com/logo.png",
  accent_color: "#1A2b3C",
};

describe("queues: the waiting page's settings", () => {
  it("are null unless set; set on create, read back, replaced and cleared with null on update", async () => {
    const read = async (id: string) =>
      (await h.app.inject({ method: "GET", url: `/queues/${id}`, headers: admin })).json<Json>();
    expect(await read(queueId)).toMatchObject({ page: null });
    const created = await h.app.inject({
      method: "POST",
      url: "/queues/",
      headers: admin,
      payload: { application_id: appId, name: "Sale", max_users_per_minute: 60, page: PAGE },
    });
    expect(created.statusCode).toBe(201);
    const id = created.json<{ id: string }>().id;
    expect(created.json()).toMatchObject({ page: PAGE });
    expect(await read(id)).toMatchObject({ page: PAGE });
    const listed = await h.app.inject({
      method: "GET",
      url: `/queues/?application_id=${appId}`,
      headers: admin,
    });
    expect(listed.json<{ items: Json[] }>().items.find((item) => item.id === id)).toMatchObject({
      page: PAGE,
    });

    const update = (payload: Json) =>
      h.app.inject({ method: "PUT", url: `/queues/${id}`, headers: admin, payload });
    const replaced = await update({ page: { accent_color: "#000000" } });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({ page: { accent_color: "#000000" } });
    expect(replaced.json<{ page: Json }>().page).not.toHaveProperty("title");
    // Other changes leave the page as it is.
    expect((await update({ name: "Renamed" })).json()).toMatchObject({ page: { accent_color: "#000000" } });
    expect((await update({ page: null })).json()).toMatchObject({ page: null });
    expect((await h.store.queues.findById(id))?.page).toBeNull();
  });

  it("reach the visitor path's view of the queue", async () => {
    await h.app.inject({ method: "PUT", url: `/queues/${queueId}`, headers: admin, payload: { page: PAGE } });
    expect((await h.store.queues.findActive(queueId))?.page).toEqual(PAGE);
    await h.app.inject({ method: "PUT", url: `/queues/${queueId}`, headers: admin, payload: { page: null } });
  });

  it("are in the OpenAPI document", async () => {
    const spec = (await h.app.inject({ method: "GET", url: "/docs/json" })).json<{
      paths: Record<string, Record<string, Json>>;
    }>();
    for (const operation of [
      spec.paths["/queues/"]?.post,
      spec.paths["/queues/{id}"]?.put,
      spec.paths["/queues/{id}"]?.get,
    ]) {
      expect(JSON.stringify(operation)).toContain("accent_color");
    }
  });
});

describe("queues: bad waiting-page settings are a 400 naming the field", () => {
  const eleven = Object.fromEntries(
    ["en", "ar", "fr", "de", "es", "it", "nl", "pt", "ru", "ja", "zh"].map((lang) => [lang, "Hi"]),
  );
  const cases: [string, unknown, string][] = [
    ["a page that is not an object", "blue", "page"],
    ["an unknown page field", { colour: "#000000" }, "page.colour"],
    ["a language code in the wrong form", { title: { english: "Hi" } }, "page.title.english"],
    ["a region in lower case", { title: { "pt-br": "Oi" } }, "page.title.pt-br"],
    ["more than 10 languages", { title: eleven }, "page.title"],
    ["an empty title", { title: { en: "" } }, "page.title.en"],
    ["a title over 120 characters", { title: { en: "x".repeat(121) } }, "page.title.en"],
    ["a message over 1000 characters", { message: { en: "x".repeat(1001) } }, "page.message.en"],
    ["a control character in a message", { message: { en: "line\nbreak" } }, "page.message.en"],
    ["a title that is not text", { title: { en: 5 } }, "page.title.en"],
    ["a logo over plain http", { logo_url: "http://cdn.example.com/logo.png" }, "page.logo_url"],
    ["a relative logo", { logo_url: "/logo.png" }, "page.logo_url"],
    ["a logo with credentials", { logo_url: "https://u:p@cdn.example.com/logo.png" }, "page.logo_url"],
    [
      "a logo over 2048 characters",
      { logo_url: `https://cdn.example.com/${"x".repeat(2030)}` },
      "page.logo_url",
    ],
    ["an accent colour by name", { accent_color: "red" }, "page.accent_color"],
    ["a three-digit accent colour", { accent_color: "#fff" }, "page.accent_color"],
  ];
  for (const [title, page, field] of cases) {
    it(title, async () => {
      for (const [method, url] of [
        ["POST", "/queues/"],
        ["PUT", `/queues/${queueId}`],
      ] as const) {
        const response = await h.app.inject({
          method,
          url,
          headers: admin,
          payload: {
            ...(method === "POST" ? { application_id: appId, name: "Q", max_users_per_minute: 60 } : {}),
            page,
          },
        });
        expect(response.statusCode, method).toBe(400);
        expect(response.json()).toMatchObject({ error: { code: "validation_failed", field } });
      }
      expect((await h.store.queues.findById(queueId))?.page).toBeNull();
    });
  }

  it("an operator without the application, or a viewer with it, may not set them", async () => {
    const viewer = await h.login("viewer@example.com", "viewer");
    await h.app.inject({
      method: "POST",
      url: `/users/${await h.userId("viewer@example.com")}/grants`,
      headers: admin,
      payload: { application_id: appId },
    });
    const operator = await h.login("stranger@example.com", "operator");
    const put = (headers: { authorization: string }) =>
      h.app.inject({ method: "PUT", url: `/queues/${queueId}`, headers, payload: { page: PAGE } });
    expect((await put(viewer)).statusCode).toBe(403);
    expect((await put(operator)).statusCode).toBe(404);
    expect((await h.store.queues.findById(queueId))?.page).toBeNull();
  });
});
