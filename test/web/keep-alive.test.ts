import http from "node:http";
import type { Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createWebAdapter } from "../../adapters/web/index.ts";
import { webConfigSchema } from "../../adapters/web/config.ts";
import { ConfigError } from "../../src/errors.ts";
import { useWebBots } from "./web-setup.ts";

/**
 * Behind a load balancer: idle keep-alive connections stay open longer than the balancer keeps
 * its own (65 s by default, Node's is 5 s), so it never sends a request on a connection the
 * server has just closed (a 502 for that request).
 */
const start = useWebBots(afterEach);
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One keep-alive connection, reused for every request (as a balancer reuses its upstream connections). */
function oneConnection(url: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  closers.push(async () => agent.destroy());
  const target = new URL(url);
  return (path: string) =>
    new Promise<{ status: number; keepAlive: string; reused: boolean; socket: Socket; endedAt: number }>((resolve, reject) => {
      const request = http.get({ agent, host: target.hostname, port: target.port, path }, (response) => {
        response.resume();
        response.on("end", () => resolve({ status: response.statusCode ?? 0, keepAlive: String(response.headers["keep-alive"]), reused: request.reusedSocket, socket: request.socket!, endedAt: Date.now() }));
      });
      request.on("error", reject);
    });
}

describe("keep-alive behind a load balancer", () => {
  it("a request on a connection idle for longer than Node's 5 s is answered on that same connection (65 s by default)", async () => {
    const w = await start();
    const get = oneConnection(w.url);
    const first = await get("/healthz");
    expect(first.status).toBe(200);
    // Clients (and balancers that read it) learn how long the server keeps the connection.
    expect(first.keepAlive).toBe("timeout=65");
    await sleep(5_300);
    expect(first.socket.destroyed).toBe(false);
    const second = await get("/healthz");
    expect(second).toMatchObject({ status: 200, reused: true });
  });

  it("an idle connection is closed by the server only after keepAliveTimeoutMs; idle time never counts against the header or request timeouts", async () => {
    const w = await start({ web: { requestTimeoutMs: 400, headersTimeoutMs: 200, keepAliveTimeoutMs: 2_000 } });
    const get = oneConnection(w.url);
    const first = await get("/healthz");
    // (Node's client drops a connection announced as `timeout=1`: it stops 1 s short of the hint.)
    expect(first).toMatchObject({ status: 200, keepAlive: "timeout=2" });
    // Idle longer than both the header and the request timeout, but within the keep-alive: still answered.
    await sleep(600);
    const second = await get("/healthz");
    expect(second).toMatchObject({ status: 200, reused: true });
    const closedAt = await new Promise<number>((resolve) => second.socket.once("close", () => resolve(Date.now())));
    // The server's timer starts when it has written the response, a moment before the client read it.
    expect(closedAt - second.endedAt).toBeGreaterThanOrEqual(1_950);
    expect(closedAt - second.endedAt).toBeLessThan(4_000);
  });

  it("adapters.web.keepAliveTimeoutMs: 65 s by default; under 1 s (a value in seconds, say) is refused naming the field", () => {
    expect(webConfigSchema.parse({}).keepAliveTimeoutMs).toBe(65_000);
    expect(() => createWebAdapter({ config: { port: 0, keepAliveTimeoutMs: 65 }, env: {} })).toThrow(ConfigError);
    expect(() => createWebAdapter({ config: { port: 0, keepAliveTimeoutMs: 65 }, env: {} })).toThrow(/keepAliveTimeoutMs/);
  });
});
