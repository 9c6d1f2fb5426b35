import { afterEach, describe, expect, it } from "vitest";
import { createWebAdapter } from "../../adapters/web/index.ts";
import { ConfigError } from "../../src/errors.ts";
import { openSse } from "./sse.ts";
import { rawSocket } from "./raw-http.ts";
import { TOKENS, useWebBots } from "./web-setup.ts";

/** Slow requests can't hold a connection: the whole request must arrive within requestTimeoutMs (headers within headersTimeoutMs). */
const start = useWebBots(afterEach);

/** Far below Node's own defaults (60 s for headers, 300 s for a request), and roomy for a busy machine. */
const WITHIN_MS = 10_000;

describe("request timeouts", () => {
  it("a body shorter than its Content-Length gets 408 and the connection closed within requestTimeoutMs", async () => {
    const w = await start({ web: { requestTimeoutMs: 400, headersTimeoutMs: 200 } });
    const raw = await rawSocket(w.url);
    const sent = Date.now();
    raw.socket.write(
      `POST /api/v1/tasks HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${TOKENS.alice}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"workflow":`,
    );
    const { data, at } = await raw.closed;
    expect(data).toMatch(/^HTTP\/1\.1 408 /);
    expect(at - sent).toBeGreaterThanOrEqual(300);
    expect(at - sent).toBeLessThan(WITHIN_MS);
    expect((await w.call("GET", "/healthz", { as: null })).status).toBe(200);
  });

  it("headers that never end get 408 within headersTimeoutMs; an event stream opened before is still served", async () => {
    const w = await start({ web: { requestTimeoutMs: 400, headersTimeoutMs: 200 } });
    const session = (await w.call("POST", "/api/v1/sessions", { body: {} })).body.id;
    const stream = await openSse(`${w.url}/api/v1/events?session=${session}`, { Authorization: `Bearer ${TOKENS.alice}` });
    const raw = await rawSocket(w.url);
    const sent = Date.now();
    raw.socket.write("GET /healthz HTTP/1.1\r\nHost: test\r\n");
    const { data, at } = await raw.closed;
    expect(data).toMatch(/^HTTP\/1\.1 408 /);
    expect(at - sent).toBeLessThan(WITHIN_MS);
    // The stream opened before is still served: the timeouts bound receiving a request, not the response.
    await w.call("POST", `/api/v1/sessions/${session}/messages`, { body: { text: "/help" } });
    await stream.until((events) => events.some((e) => e.event === "reply"), 10_000, "a reply on the old stream");
    stream.close();
  });

  it("refuses headersTimeoutMs over requestTimeoutMs, naming the field", () => {
    expect(() => createWebAdapter({ config: { port: 0, requestTimeoutMs: 1000, headersTimeoutMs: 2000 }, env: {} })).toThrow(ConfigError);
    expect(() => createWebAdapter({ config: { port: 0, requestTimeoutMs: 1000, headersTimeoutMs: 2000 }, env: {} })).toThrow(/headersTimeoutMs/);
  });
});
