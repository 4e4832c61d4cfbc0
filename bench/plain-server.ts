// The baseline for the benchmark's ratios: the cheapest useful JSON endpoint node:http can serve.
// Listens on HOST:PORT (default 127.0.0.1, an ephemeral port) and prints "listening <port>" once ready.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const body = JSON.stringify({ hello: "world" });
const length = String(Buffer.byteLength(body));

const server = createServer((_request, response) => {
  response.writeHead(200, { "content-type": "application/json", "content-length": length });
  response.end(body);
});

server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`listening ${port}\n`);
});

const stop = (): void => {
  server.close();
  server.closeAllConnections();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
