/**
 * Two bots in one process, each with its own PostgreSQL store object on one database (as two
 * instances would be): what one instance is asked reaches a task running on the other.
 */
import { afterEach, expect, it } from "vitest";
import { createBot, type Bot } from "../../src/app.ts";
import { silentLogger } from "../../src/logger.ts";
import { createPostgresStore } from "../../src/store/postgres/index.ts";
import { defineWorkflow } from "../../src/tasks/workflow.ts";
import { createRecordingAdapter } from "../../src/testing/recording-adapter.ts";
import { freshDatabase, type TestDatabase } from "../postgres/database.ts";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const waitFor = async <T>(read: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

async function twoBots(db: TestDatabase, aborted: string[]): Promise<[Bot, Bot]> {
  const slow = defineWorkflow({
    name: "slow",
    async run(ctx) {
      await ctx.step("wait", (signal) => new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, 60_000);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          aborted.push(ctx.taskId);
          reject(signal.reason);
        });
      }));
      return { text: "done" };
    },
  });
  const bots: Bot[] = [];
  for (const id of ["one", "two"]) {
    const bot = await createBot({
      config: { tasks: { leaseSeconds: 2 } },
      store: createPostgresStore({ url: db.url }),
      adapters: [createRecordingAdapter({ platform: "rec" })],
      workflows: [slow],
      logger: silentLogger(),
      env: { CHATFLOW_INSTANCE_ID: id },
    });
    await bot.start();
    cleanups.push(() => bot.stop());
    bots.push(bot);
  }
  return bots as [Bot, Bot];
}

it("a cancel sent to one instance stops the task running on the other at once (its step's signal aborts)", async () => {
  const db = await freshDatabase();
  cleanups.push(() => db.drop());
  const aborted: string[] = [];
  const [one, two] = await twoBots(db, aborted);
  const address = { platform: "rec", channel: "c1", user: "alice", direct: true };
  const { task } = await one.startTask({ workflow: "slow", input: {}, address });
  const running = await waitFor(async () => {
    const t = await one.store.getTask(task.id);
    return t?.status === "running" && t.lease ? t : undefined;
  }, "the task to run");
  // Sent to the instance that does not run it.
  const runner = running.lease!.owner === one.instanceId ? one : two;
  const other = runner === one ? two : one;
  await other.host.tasks.cancel(task.id, "alice");
  const ended = await waitFor(async () => {
    const t = await other.store.getTask(task.id);
    return t?.status === "cancelled" ? t : undefined;
  }, "the task to be cancelled");
  expect(ended.status).toBe("cancelled");
  expect(aborted).toEqual([task.id]);
  // Stopped where it ran (the signal reached that instance): never taken over by another.
  expect(ended.attempts).toBe(1);
});

it("two instances open one session for a key, whichever sees the first message", async () => {
  const db = await freshDatabase();
  cleanups.push(() => db.drop());
  const [one, two] = await twoBots(db, []);
  const address = { platform: "rec", channel: "c2", user: "bob", direct: true };
  const [a, b] = await Promise.all([one.openSession(address), two.openSession(address)]);
  expect(a.id).toBe(b.id);
  expect((await one.listSessions({ platform: "rec" })).items.filter((s) => s.key === a.key)).toHaveLength(1);
});
