import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLowdbStore } from "../../src/store/lowdb/index.ts";
import { eventually } from "../helpers.ts";
import { openSse, type SseClient } from "./sse.ts";
import { startWebBot, TOKENS, type WebBot } from "./web-setup.ts";

/** The bot restarts mid-task on the same lowdb data; a client reconnects with Last-Event-ID and misses nothing. */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const quiet = { warn: () => undefined };

async function startOn(dir: string): Promise<WebBot> {
  const w = await startWebBot({ store: createLowdbStore({ dir, logger: quiet }), config: { workflows: { demo: { stepDelayMs: 20 } } } });
  return w;
}

function follow(w: WebBot, sessionId: string, lastEventId?: string): Promise<SseClient> {
  return openSse(`${w.url}/api/v1/events?session=${sessionId}`, { Authorization: `Bearer ${TOKENS.alice}`, ...(lastEventId ? { "Last-Event-ID": lastEventId } : {}) });
}

describe("a restart mid-task", () => {
  it("the task goes on after the restart, and the reconnected client gets every event once", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "chatflow-web-restart-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const first = await startOn(dir);
    let firstStopped = false;
    cleanups.push(() => (firstStopped ? undefined : first.stop()));
    const sessionId = (await first.call("POST", "/api/v1/sessions", { body: {} })).body.id;
    const before = await follow(first, sessionId);
    cleanups.push(() => before.close());
    const { taskId } = (await first.call("POST", `/api/v1/sessions/${sessionId}/messages`, { body: { text: "owls" } })).body;
    await before.until((events) => events.some((e) => e.event === "question"), 10_000, "the question");
    const lastSeen = before.events.at(-1)!.id!;

    await first.stop();
    firstStopped = true;
    before.close();
    const second = await startOn(dir);
    cleanups.push(() => second.stop());
    // The stored task still waits for its answer.
    expect((await second.call("GET", `/api/v1/tasks/${taskId}`)).body).toMatchObject({ status: "waiting", waitingFor: { kind: "question" } });
    const after = await follow(second, sessionId, lastSeen);
    cleanups.push(() => after.close());
    await second.call("POST", `/api/v1/tasks/${taskId}/answer`, { body: { choice: "Short summary" } });
    await eventually(async () => (await second.call("GET", `/api/v1/tasks/${taskId}`)).body.waitingFor?.kind === "review", 10_000, "the review");
    await second.call("POST", `/api/v1/tasks/${taskId}/review`, { body: { approved: true } });
    await after.until((events) => events.some((e) => e.event === "end"), 10_000, "the end");

    const seen = [...before.events, ...after.events].map((e) => Number(e.id));
    const stored = (await second.bot.events.read({ sessionId }, { limit: 1000 })).map((e) => e.seq);
    expect(seen).toEqual(stored);
    expect(new Set(seen).size).toBe(seen.length);
    expect(after.events.filter((e) => e.event === "result")).toHaveLength(1);
    expect((await second.call("GET", `/api/v1/tasks/${taskId}`)).body.status).toBe("completed");
  });
});
