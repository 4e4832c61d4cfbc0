import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Resolver } from "../../src/net/address-policy.js";
import {
  type CallbackSenderOptions,
  createCallbackSender,
  createPinnedLookup,
} from "../../src/worker/callbacks/sender.js";
import { SIGNATURE_HEADER, signatureHeader, verifySignature } from "../../src/worker/callbacks/signature.js";

const SECRET = "whsec_test_0123456789";
const BODY = JSON.stringify({ event: "visitor.released", visitor_id: "v_1" });

describe("callback signature", () => {
  const now = 1_700_000_000;

  it("round-trips", () => {
    const header = signatureHeader(SECRET, BODY, now);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature(SECRET, BODY, header, now)).toBe(true);
    expect(verifySignature(SECRET, BODY, header, now + 300)).toBe(true);
  });

  it("floors fractional seconds", () => {
    expect(signatureHeader(SECRET, BODY, now + 0.9)).toBe(signatureHeader(SECRET, BODY, now));
  });

  it("rejects a wrong secret, altered body or altered t", () => {
    const header = signatureHeader(SECRET, BODY, now);
    expect(verifySignature("whsec_other", BODY, header, now)).toBe(false);
    expect(verifySignature(SECRET, `${BODY} `, header, now)).toBe(false);
    expect(verifySignature(SECRET, BODY, header.replace("t=1700000000", "t=1700000001"), now)).toBe(false);
  });

  it.each([
    "",
    "garbage",
    "t=1700000000",
    "v1=00",
    "t=abc,v1=0000000000000000000000000000000000000000000000000000000000000000",
    "t=1700000000,v1=ZZ",
    "t=1700000000,t=1700000000,v1=0000000000000000000000000000000000000000000000000000000000000000",
  ])("rejects malformed header %j", (header) => {
    expect(verifySignature(SECRET, BODY, header, now)).toBe(false);
  });

  it("rejects a stale or far-future timestamp", () => {
    const header = signatureHeader(SECRET, BODY, now);
    expect(verifySignature(SECRET, BODY, header, now + 301)).toBe(false);
    expect(verifySignature(SECRET, BODY, header, now - 301)).toBe(false);
    expect(verifySignature(SECRET, BODY, header, now + 1000, 2000)).toBe(true);
  });

  it("accepts any of several v1 values (secret rotation)", () => {
    const old = signatureHeader("whsec_old", BODY, now);
    const current = signatureHeader(SECRET, BODY, now).split(",")[1];
    expect(verifySignature(SECRET, BODY, `${old},${current}`, now)).toBe(true);
  });
});

interface Seen {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
  remotePort: number | undefined;
}

describe("callback sender", () => {
  const seen: Seen[] = [];
  let server: Server;
  let base: string;
  let port: number;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        seen.push({
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          remotePort: req.socket.remotePort,
        });
        if (req.url === "/hang") return;
        if (req.url === "/fail") res.writeHead(500).end("boom");
        else if (req.url === "/redirect") res.writeHead(302, { location: `${base}/ok` }).end();
        else res.writeHead(200, { "content-type": "application/json" }).end('{"received":true}');
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, "close");
  });

  const loopbackResolver: Resolver = async () => [{ address: "127.0.0.1", family: 4 }];

  /** One send on a fresh sender, closed even when the send misbehaves; `seen` holds only this send. */
  async function sendOnce(options: Partial<CallbackSenderOptions>, url: string, headers = {}) {
    const sender = createCallbackSender({ allowPrivate: true, timeoutMs: 2000, ...options });
    seen.length = 0;
    const started = Date.now();
    try {
      const result = await sender.send(url, BODY, headers);
      return { ...result, took: Date.now() - started };
    } finally {
      await sender.close();
    }
  }

  it("POSTs the exact body and headers when private targets are allowed", async () => {
    const signature = signatureHeader(SECRET, BODY, Math.floor(Date.now() / 1000));
    const result = await sendOnce({}, `${base}/ok`, { "X-Anteroom-Signature": signature });
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(result.error).toBeUndefined();
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(seen).toHaveLength(1);
    const got = seen[0];
    expect(got?.method).toBe("POST");
    expect(got?.url).toBe("/ok");
    expect(got?.body).toBe(BODY);
    expect(got?.headers["content-type"]).toBe("application/json");
    expect(got?.headers["user-agent"]).toBe("Anteroom-Callback/1");
    expect(got?.headers[SIGNATURE_HEADER]).toBe(signature);
    expect(verifySignature(SECRET, got?.body ?? "", signature, Math.floor(Date.now() / 1000))).toBe(true);
  });

  it("reports a 500 answer as a failure with its status", async () => {
    const result = await sendOnce({ userAgent: "Probe/2" }, `${base}/fail`);
    expect(result).toMatchObject({ ok: false, status: 500, error: "HTTP 500" });
    expect(seen[0]?.headers["user-agent"]).toBe("Probe/2");
  });

  it("does not follow redirects", async () => {
    const result = await sendOnce({}, `${base}/redirect`);
    expect(result).toMatchObject({ ok: false, status: 302 });
    expect(result.error).toMatch(/redirect/);
    expect(seen.map((s) => s.url)).toEqual(["/redirect"]);
  });

  it("gives up on a receiver that never answers within about timeoutMs", async () => {
    const result = await sendOnce({ timeoutMs: 300 }, `${base}/hang`);
    expect(result).toMatchObject({ ok: false, error: "timed out after 300 ms" });
    expect(result.took).toBeGreaterThanOrEqual(250);
    expect(result.took).toBeLessThan(1500);
  });

  it("bounds a lookup that never completes by timeoutMs", async () => {
    const stuck: Resolver = () => new Promise(() => {});
    const sender = createCallbackSender({ allowPrivate: true, timeoutMs: 300, resolve: stuck });
    const started = Date.now();
    // Not sendOnce: close() waits for undici's own, coarser connect timeout, which is not under test.
    const result = await sender.send(`http://stuck.test:${port}/ok`, BODY, {});
    expect(Date.now() - started).toBeLessThan(700);
    expect(result).toMatchObject({ ok: false, error: "timed out after 300 ms" });
    await sender.close();
  });

  it("reuses one kept-alive connection, and so one lookup, for back-to-back sends", async () => {
    let lookups = 0;
    const counting: Resolver = async (host) => {
      lookups += 1;
      return loopbackResolver(host);
    };
    const sender = createCallbackSender({ allowPrivate: true, timeoutMs: 2000, resolve: counting });
    seen.length = 0;
    for (let i = 0; i < 4; i += 1) {
      expect((await sender.send(`http://evil.test:${port}/ok`, BODY, {})).ok).toBe(true);
    }
    expect(new Set(seen.map((s) => s.remotePort)).size).toBe(1);
    expect(lookups).toBe(1);
    await expect(sender.close()).resolves.toBeUndefined();
  });

  it("reports a closed port as a connect error", async () => {
    const closed = createServer().listen(0, "127.0.0.1");
    await once(closed, "listening");
    const closedPort = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, "close");
    const result = await sendOnce({}, `http://127.0.0.1:${closedPort}/`);
    expect(result.ok).toBe(false);
    expect(result.status).toBeUndefined();
    expect(result.error).toMatch(/ECONNREFUSED/);
  });

  it("refuses a loopback literal unless private targets are allowed", async () => {
    const result = await sendOnce({ allowPrivate: false }, `${base}/ok`);
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/127\.0\.0\.1/);
    expect(seen).toHaveLength(0);
  });

  it("refuses a name that resolves to loopback, checking at connect time", async () => {
    const result = await sendOnce(
      { allowPrivate: false, resolve: loopbackResolver },
      `http://evil.test:${port}/ok`,
    );
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/evil\.test.*127\.0\.0\.1/);
    expect(seen).toHaveLength(0);
  });

  it("refuses a name when any one of its addresses is private", async () => {
    const mixed: Resolver = async () => [
      { address: "93.184.216.34", family: 4 },
      { address: "127.0.0.1", family: 4 },
    ];
    const result = await sendOnce({ allowPrivate: false, resolve: mixed }, `http://evil.test:${port}/ok`);
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/non-public/);
    expect(seen).toHaveLength(0);
  });

  it("connects to the pinned address while keeping the URL's host name", async () => {
    const result = await sendOnce({ resolve: loopbackResolver }, `http://evil.test:${port}/ok`);
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.headers.host).toBe(`evil.test:${port}`);
  });

  it("reports resolver failures and malformed URLs without throwing", async () => {
    const failing: Resolver = async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND nowhere.test"), { code: "ENOTFOUND" });
    };
    const unresolved = await sendOnce({ resolve: failing }, "http://nowhere.test/");
    expect(unresolved).toMatchObject({ ok: false, error: expect.stringMatching(/ENOTFOUND/) });
    const malformed = await sendOnce({}, "ftp://example.test/");
    expect(malformed).toMatchObject({ ok: false, error: expect.stringMatching(/http or https/) });
  });
});

describe("pinned lookup", () => {
  const resolver: Resolver = async () => [
    { address: "93.184.216.34", family: 4 },
    { address: "2606:2800:220:1:248:1893:25c8:1946", family: 6 },
  ];

  it("answers the single-address form", async () => {
    const lookup = createPinnedLookup(resolver, false);
    const answer = await new Promise<unknown[]>((resolve) => {
      lookup("example.test", {}, (...args) => resolve(args));
    });
    expect(answer).toEqual([null, "93.184.216.34", 4]);
  });

  it("answers the all form, honouring a requested family", async () => {
    const lookup = createPinnedLookup(resolver, false);
    const answer = await new Promise<unknown[]>((resolve) => {
      lookup("example.test", { all: true, family: 6 }, (...args) => resolve(args));
    });
    expect(answer).toEqual([null, [{ address: "2606:2800:220:1:248:1893:25c8:1946", family: 6 }]]);
  });

  it("fails the lookup for a private answer", async () => {
    const lookup = createPinnedLookup(async () => [{ address: "10.0.0.5", family: 4 }], false);
    const [err] = await new Promise<unknown[]>((resolve) => {
      lookup("internal.test", { all: true }, (...args) => resolve(args));
    });
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/10\.0\.0\.5/);
  });
});
