import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { buildAdminBundle } from "../../src/http/admin-bundle.js";
import { renderAdminPage } from "../../src/http/routes/admin.js";

/** The budget: everything /admin serves (page, script, stylesheet) at most 150 kB gzipped. */
const BUDGET = 150_000;

describe("the admin console's size", () => {
  it("is at most 150 kB gzipped in all, built and gzipped as served", async () => {
    const bundle = await buildAdminBundle();
    const page = gzipSync(renderAdminPage(bundle, "ar", "bm9uY2Vub25jZW5vbmNlMQ=="), { level: 9 });
    const total = bundle.script.gzip.length + bundle.style.gzip.length + page.length;
    console.log(
      `admin: script ${bundle.script.gzip.length}, style ${bundle.style.gzip.length}, page ${page.length}; ${total} bytes gzipped in all`,
    );
    expect(total).toBeLessThanOrEqual(BUDGET);
    // What is served is what was measured: the gzip inflates to the body.
    expect(gzipSync(bundle.script.body, { level: 9 }).length).toBe(bundle.script.gzip.length);
  });

  it("bundles Preact, uPlot and its CSS, and no eval", async () => {
    const { script, style } = await buildAdminBundle();
    const js = script.body.toString("utf8");
    expect(js).not.toMatch(/\beval\(|new Function\(/);
    expect(js).not.toMatch(/\brequire\(|\bimport\(/);
    expect(js).not.toMatch(/localStorage|sessionStorage|document\.cookie/);
    expect(style.body.toString("utf8")).toContain(".u-legend");
    expect(script.path).toMatch(/^\/admin\/assets\/admin\.[0-9a-f]{12}\.js$/);
    expect(style.path).toMatch(/^\/admin\/assets\/admin\.[0-9a-f]{12}\.css$/);
  });
});
