import { sign } from "hono/jwt";
import { afterEach, describe, expect, it } from "vitest";
import { JWT_SECRET, useWebBots, type WebBot } from "./web-setup.ts";

/** Idempotency-Keys belong to one user and one route; a reused key with another body or target is 422, never another request's result. */
const start = useWebBots(afterEach);

const jwtOf = (sub: string) => sign({ sub, exp: Math.floor(Date.now() / 1000) + 3600 }, JWT_SECRET, "HS256");

async function newSession(w: WebBot, as: "alice" | "bob" = "alice"): Promise<string> {
  return (await w.call("POST", "/api/v1/sessions", { as, body: {} })).body.id;
}

const send = (w: WebBot, sessionId: string, text: string, key: string, as: "alice" | "bob" = "alice") =>
  w.call("POST", `/api/v1/sessions/${sessionId}/messages`, { as, body: { text }, headers: { "Idempotency-Key": key } });

describe("Idempotency-Key of POST /sessions/{id}/messages", () => {
  it("is per user: Bob's key order-42 starts Bob's own task, whatever Alice did with it", async () => {
    const w = await start();
    const alices = await newSession(w, "alice");
    const bobs = await newSession(w, "bob");
    const alice = await send(w, alices, "owls", "order-42", "alice");
    expect(alice.status).toBe(202);
    expect(alice.body.outcome).toBe("started");
    const bob = await send(w, bobs, "bats", "order-42", "bob");
    expect(bob.status).toBe(202);
    expect(bob.body.outcome).toBe("started");
    expect(bob.body.taskId).not.toBe(alice.body.taskId);
    const bobTask = await w.call("GET", `/api/v1/tasks/${bob.body.taskId}`, { as: "bob" });
    expect(bobTask.body).toMatchObject({ owner: "bob", sessionId: bobs });
    const history = (await w.call("GET", `/api/v1/sessions/${bobs}/messages`, { as: "bob" })).body.items;
    expect(history.map((m: any) => [m.role, m.text])).toContainEqual(["user", "bats"]);
    expect((await w.call("GET", `/api/v1/tasks/${alice.body.taskId}`, { as: "bob" })).status).toBe(404);
  });

  it("a retry (same key, session and text) gets the first result and starts nothing twice, also when sent at the same time", async () => {
    const w = await start();
    const sessionId = await newSession(w);
    const first = await send(w, sessionId, "owls", "retry-1");
    const again = await send(w, sessionId, "owls", "retry-1");
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    const other = await newSession(w);
    const both = await Promise.all([send(w, other, "bats", "together"), send(w, other, "bats", "together")]);
    expect(both.map((r) => r.status)).toEqual([202, 202]);
    expect(both[1]!.body).toEqual(both[0]!.body);
    expect(both[0]!.body.outcome).toBe("started");
    expect((await w.call("GET", `/api/v1/tasks?session=${other}`)).body.items).toHaveLength(1);
    const history = (await w.call("GET", `/api/v1/sessions/${other}/messages`)).body.items.filter((m: any) => m.role === "user");
    expect(history.map((m: any) => m.text)).toEqual(["bats"]);
  });

  it("a reused key with another text, or for another session, is 422 idempotency_key_reused", async () => {
    const w = await start();
    const one = await newSession(w);
    const two = await newSession(w);
    const first = await send(w, one, "owls", "k-1");
    expect(first.status).toBe(202);
    const otherText = await send(w, one, "bats", "k-1");
    expect(otherText.status).toBe(422);
    expect(otherText.body).toEqual({ error: "idempotency_key_reused", message: expect.stringMatching(/^This Idempotency-Key was already used for a different request/) });
    const otherSession = await send(w, two, "owls", "k-1");
    expect(otherSession.status).toBe(422);
    expect(otherSession.body.error).toBe("idempotency_key_reused");
    // Nothing was written for the refused ones; the first is still what the key means.
    expect((await w.call("GET", `/api/v1/sessions/${two}/messages`)).body.items).toEqual([]);
    expect((await send(w, one, "owls", "k-1")).body).toEqual(first.body);
  });
});

describe("Idempotency-Key of POST /tasks", () => {
  const post = (w: WebBot, token: string, key: string, text = "owls", extra: Record<string, unknown> = {}) =>
    w.call("POST", "/api/v1/tasks", { token, body: { workflow: "demo", input: { text }, ...extra }, headers: { "Idempotency-Key": key } });

  it("users j.doe and j_doe with one key get two tasks (the id was t-j_doe-k for both)", async () => {
    const w = await start();
    const dot = await post(w, await jwtOf("j.doe"), "k", "owls");
    const underscore = await post(w, await jwtOf("j_doe"), "k", "bats");
    expect(dot.status).toBe(202);
    expect(underscore.status).toBe(202);
    expect(underscore.body.taskId).not.toBe(dot.body.taskId);
    expect((await w.call("GET", `/api/v1/tasks/${underscore.body.taskId}`, { token: await jwtOf("j_doe") })).body).toMatchObject({ owner: "j_doe" });
  });

  it("alice with key x-k and alice-x with key k get two tasks (both were t-alice-x-k)", async () => {
    const w = await start();
    const alice = await post(w, await jwtOf("alice"), "x-k", "owls");
    const aliceX = await post(w, await jwtOf("alice-x"), "k", "bats");
    expect(aliceX.status).toBe(202);
    expect(aliceX.body.taskId).not.toBe(alice.body.taskId);
    expect((await w.call("GET", `/api/v1/tasks/${aliceX.body.taskId}`, { token: await jwtOf("alice-x") })).body.owner).toBe("alice-x");
  });

  it("non-ASCII keys of one length are different keys (all were _ before)", async () => {
    const w = await start();
    const token = await jwtOf("carol");
    const one = await post(w, token, "clé-1", "owls");
    const two = await post(w, token, "clü-1", "bats");
    const three = await post(w, token, "cl?-1", "cats");
    expect(new Set([one.body.taskId, two.body.taskId, three.body.taskId]).size).toBe(3);
    expect([one.status, two.status, three.status]).toEqual([202, 202, 202]);
  });

  it("a retry gets the same task and makes no second session; another body under the key is 422", async () => {
    const w = await start();
    const token = await jwtOf("dave");
    const first = await post(w, token, "order-7", "owls");
    const retry = await post(w, token, "order-7", "owls");
    expect(retry.status).toBe(202);
    expect(retry.body.taskId).toBe(first.body.taskId);
    expect(retry.body.sessionId).toBe(first.body.sessionId);
    expect((await w.call("GET", "/api/v1/sessions", { token })).body.items).toHaveLength(1);
    const changed = await post(w, token, "order-7", "bats");
    expect(changed.status).toBe(422);
    expect(changed.body.error).toBe("idempotency_key_reused");
    const otherSession = await post(w, token, "order-7", "owls", { sessionId: (await w.call("POST", "/api/v1/sessions", { token, body: {} })).body.id });
    expect(otherSession.status).toBe(422);
    expect((await w.call("GET", `/api/v1/tasks/${first.body.taskId}`, { token })).body.status).not.toBe("failed");
    // The task id is no longer built from the user's name and key.
    expect(first.body.taskId).not.toContain("dave");
    expect(first.body.taskId).not.toContain("order");
  });
});
