import { describe, expect, it } from "vitest";
import { buildClientBundle } from "../../src/http/client-bundle.js";

/** The budget: each script at most 10 kB gzipped (10,000 bytes, the stricter reading). */
const BUDGET = 10_000;

describe("browser scripts", () => {
  it("are each at most 10 kB gzipped", async () => {
    const bundle = await buildClientBundle();
    for (const [name, asset] of Object.entries(bundle)) {
      console.log(`${name}.js: ${asset.body.length} bytes, ${asset.gzip.length} bytes gzipped`);
      expect(asset.gzip.length, name).toBeLessThanOrEqual(BUDGET);
    }
  });

  it("are named by content and carry no dependency at run time", async () => {
    const bundle = await buildClientBundle();
    expect(bundle.queue.hashedPath).toMatch(/^\/scripts\/queue\.[0-9a-f]{12}\.js$/);
    expect(bundle.wait.hashedPath).toMatch(/^\/scripts\/wait\.[0-9a-f]{12}\.js$/);
    expect(bundle.queue.integrity).toMatch(/^sha384-/);
    const queue = bundle.queue.body.toString("utf8");
    expect(queue).toContain("QueueManager");
    expect(queue).not.toMatch(/\brequire\(|\bimport\(/);
    // Only the strings a visitor sees are bundled.
    expect(queue).toContain("أمامك");
  });
});
