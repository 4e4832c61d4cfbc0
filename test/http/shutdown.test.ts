import { describe, expect, it } from "vitest";
import { stopGracefully } from "../../src/start/shutdown.js";
import { startHarness } from "../helpers/harness.js";

describe("graceful shutdown", () => {
  it("answers requests in flight, refuses new connections, then closes resources", async () => {
    const h = await startHarness();
    let entered: () => void = () => {};
    const handlerEntered = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    h.app.get("/test/slow", async () => {
      entered();
      await released;
      return { done: true };
    });
    await h.app.listen({ port: 0, host: "127.0.0.1" });
    const address = h.app.server.address();
    if (address === null || typeof address === "string") throw new Error("not listening");
    const url = `http://127.0.0.1:${address.port}`;

    const inflight = fetch(`${url}/test/slow`);
    await handlerEntered;
    let resourcesClosed = false;
    const stopping = stopGracefully(h.app, async () => {
      resourcesClosed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(fetch(`${url}/healthz`, { headers: { connection: "close" } })).rejects.toThrow();
    expect(resourcesClosed).toBe(false);

    release();
    const response = await inflight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ done: true });
    await stopping;
    expect(resourcesClosed).toBe(true);
    await h.store.close();
  });
});
