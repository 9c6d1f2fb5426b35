import { afterEach, describe, expect, it } from "vitest";
import { ChatflowError, RateLimitError } from "../../src/errors.ts";
import { faultyStore } from "../faulty-store.ts";
import { useWebBots } from "./web-setup.ts";

/** Engine errors reach clients as statuses they can act on: a store that is down is 503, a rate limit 429 with Retry-After. */
const start = useWebBots(afterEach);

describe("engine errors over HTTP", () => {
  it("a ChatflowError with code store is 503 store_unavailable with its sentence", async () => {
    const { store, around } = faultyStore();
    const w = await start({ store });
    const sessionId = (await w.call("POST", "/api/v1/sessions", { body: {} })).body.id;
    const sentence = "The store can't write its files (the disk is full).";
    around.set("getSession", async () => {
      throw new ChatflowError("store", sentence);
    });
    const response = await w.call("GET", `/api/v1/sessions/${sessionId}`);
    expect(response.status).toBe(503);
    expect(response.body).toEqual({ error: "store_unavailable", message: sentence });
    // Any other failure stays a 500 that says nothing of itself.
    around.set("getSession", async () => {
      throw new Error("secret detail at /srv/chatflow/data");
    });
    const other = await w.call("GET", `/api/v1/sessions/${sessionId}`);
    expect(other.status).toBe(500);
    expect(JSON.stringify(other.body)).not.toContain("secret");
    around.delete("getSession");
    expect((await w.call("GET", `/api/v1/sessions/${sessionId}`)).status).toBe(200);
  });

  it("a RateLimitError is 429 with Retry-After in whole seconds (rounded up)", async () => {
    const { store, around } = faultyStore();
    const w = await start({ store });
    const sessionId = (await w.call("POST", "/api/v1/sessions", { body: {} })).body.id;
    around.set("getSession", async () => {
      throw new RateLimitError("Too many tasks started: try again in 3 s.", 2_100);
    });
    const response = await w.call("POST", `/api/v1/sessions/${sessionId}/messages`, { body: { text: "owls" } });
    expect(response.status).toBe(429);
    expect(response.body).toEqual({ error: "rate_limited", message: "Too many tasks started: try again in 3 s." });
    expect(response.headers.get("retry-after")).toBe("3");
    around.set("getSession", async () => {
      throw new RateLimitError("Slow down.", 10);
    });
    expect((await w.call("GET", `/api/v1/sessions/${sessionId}`)).headers.get("retry-after")).toBe("1");
  });
});
