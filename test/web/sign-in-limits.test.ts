import { afterEach, describe, expect, it } from "vitest";
import { rawRequest } from "./raw-http.ts";
import { TOKENS, useWebBots, type WebBot } from "./web-setup.ts";

/** Failed sign-ins are limited per client address, before the credential is checked. */
const start = useWebBots(afterEach);

const me = (w: WebBot, token: string | undefined, options: { localAddress?: string; headers?: Record<string, string> } = {}) =>
  rawRequest(w.url, { path: "/api/v1/me", headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...options.headers }, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });

describe("failed sign-ins", () => {
  it("past the limit an address gets 429 with Retry-After, even with a right token; another address is unaffected; no token is no failure", async () => {
    const w = await start({ web: { rateLimit: { failedSignInsPerMinute: 3 } } });
    // A page asking whether it must sign in sends no credential: not a guess.
    for (let i = 0; i < 5; i++) expect((await me(w, undefined)).status).toBe(401);
    for (let i = 0; i < 3; i++) {
      const wrong = await me(w, `guess-${i}-0123456789abcdef`);
      expect(wrong.status).toBe(401);
      expect(wrong.json.message).toBe("The token is not valid.");
    }
    const limited = await me(w, TOKENS.alice);
    expect(limited.status).toBe(429);
    expect(limited.json).toEqual({ error: "rate_limited", message: expect.stringMatching(/^Too many failed sign-ins from this address \(the limit is 3 a minute\)\. Try again in \d+ s\.$/) });
    expect(Number(limited.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers["retry-after"])).toBeLessThanOrEqual(60);
    // The WebSocket and SSE routes are behind the same door.
    expect((await rawRequest(w.url, { path: `/api/v1/events?access_token=${TOKENS.alice}` })).status).toBe(429);
    // Another address (all of 127/8 is this machine) signs in as usual.
    const other = await me(w, TOKENS.alice, { localAddress: "127.0.0.2" });
    expect(other.status).toBe(200);
    expect(other.json).toEqual({ id: "alice", reviewer: false });
    // A forwarded-for header is not trusted by default: it can't buy a fresh address.
    expect((await me(w, TOKENS.alice, { headers: { "X-Forwarded-For": "203.0.113.9" } })).status).toBe(429);
  });

  it("behind a proxy (trustProxy), addresses come from X-Forwarded-For", async () => {
    const w = await start({ web: { trustProxy: true, rateLimit: { failedSignInsPerMinute: 2 } } });
    const from = (address: string) => ({ headers: { "X-Forwarded-For": `198.51.100.1, ${address}` } });
    for (let i = 0; i < 2; i++) expect((await me(w, "not-a-valid-token-at-all", from("203.0.113.1"))).status).toBe(401);
    expect((await me(w, TOKENS.alice, from("203.0.113.1"))).status).toBe(429);
    expect((await me(w, TOKENS.alice, from("203.0.113.2"))).status).toBe(200);
  });

  it("a burst of 200 wrong tokens at once: all but about the limit's worth (10 by default) are 429", async () => {
    const w = await start();
    const statuses = await Promise.all(Array.from({ length: 200 }, (_, i) => me(w, `wrong-token-${i}-0123456789`).then((r) => r.status)));
    // Checked and counted per request, not in one step: a few in flight together may pass.
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(20);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(180);
  });
});
