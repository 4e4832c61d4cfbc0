import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientBundle } from "../../src/http/client-bundle.js";
import { acceptsGzip } from "../../src/http/routes/scripts.js";
import { type Harness, startHarness } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const get = (url: string, headers: Record<string, string> = {}) =>
  h.app.inject({ method: "GET", url, headers });

describe("GET /scripts/queue.js", () => {
  it("serves the embed script, revalidated by ETag", async () => {
    const bundle = await clientBundle();
    const response = await get("/scripts/queue.js");
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(response.headers["cache-control"]).toBe("no-cache");
    expect(response.headers["access-control-allow-origin"]).toBe("*");
    expect(response.headers.vary).toBe("Accept-Encoding");
    expect(response.headers.etag).toBe(bundle.queue.etag);
    expect(response.headers["content-encoding"]).toBeUndefined();
    expect(response.rawPayload.equals(bundle.queue.body)).toBe(true);

    const again = await get("/scripts/queue.js", { "if-none-match": bundle.queue.etag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe("");
    expect(again.headers.etag).toBe(bundle.queue.etag);

    const stale = await get("/scripts/queue.js", { "if-none-match": '"000000000000"' });
    expect(stale.statusCode).toBe(200);
  });

  it("gzips when the browser takes it", async () => {
    const bundle = await clientBundle();
    const response = await get("/scripts/queue.js", { "accept-encoding": "gzip, deflate, br" });
    expect(response.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(response.rawPayload).equals(bundle.queue.body)).toBe(true);
    const tag = response.headers.etag;
    expect(tag).not.toBe(bundle.queue.etag);
    const again = await get("/scripts/queue.js", { "accept-encoding": "gzip", "if-none-match": String(tag) });
    expect(again.statusCode).toBe(304);
  });
});

describe("hashed scripts", () => {
  it("serve both scripts under their content hash, immutable for a year", async () => {
    const bundle = await clientBundle();
    for (const asset of [bundle.queue, bundle.wait]) {
      const response = await get(asset.hashedPath);
      expect(response.statusCode, asset.hashedPath).toBe(200);
      expect(response.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
      expect(response.headers["content-type"]).toBe("text/javascript; charset=utf-8");
      expect(response.headers.etag).toBe(asset.etag);
      expect(response.rawPayload.equals(asset.body)).toBe(true);
    }
    const revalidated = await get(bundle.wait.hashedPath, { "if-none-match": `W/${bundle.wait.etag}` });
    expect(revalidated.statusCode).toBe(304);
  });

  it("answers 404 for anything else under /scripts/", async () => {
    for (const url of ["/scripts/queue.000000000000.js", "/scripts/wait.js", "/scripts/nope", "/scripts/"]) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(404);
      expect(response.json<{ error: { code: string } }>().error.code).toBe("not_found");
    }
  });
});

describe("Accept-Encoding", () => {
  it("reads gzip, * and q=0", () => {
    expect(acceptsGzip(undefined)).toBe(false);
    expect(acceptsGzip("br")).toBe(false);
    expect(acceptsGzip("gzip")).toBe(true);
    expect(acceptsGzip("deflate, GZIP;q=0.5")).toBe(true);
    expect(acceptsGzip("gzip;q=0")).toBe(false);
    expect(acceptsGzip("*")).toBe(true);
  });
});
