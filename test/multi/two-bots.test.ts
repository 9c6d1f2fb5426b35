/**
 * Two bots in one process, each with its own PostgreSQL store object on one database (as two
 * instances would be): what one instance is asked reaches a task running on the other.
 */
import { afterEach, expect, it } from "vitest";
import { createBot, type Bot } from "../../src/app.ts";
import { silentLogger } from "../../src/logger.ts";
import { createPostgresStore } from "../../src/store/postgres/index.ts";
import { defineWorkflow } from "../../src/tasks/workflow.ts";
import { createRecordingAdapter, type RecordingAdapter } from "../../src/testing/recording-adapter.ts";
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

async function twoBots(db: TestDatabase, aborted: string[], adapters: RecordingAdapter[] = [], tasks: Record<string, unknown> = {}): Promise<[Bot, Bot]> {
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
    const adapter = createRecordingAdapter({ platform: "rec" });
    adapters.push(adapter);
    const bot = await createBot({
      config: { tasks: { leaseSeconds: 2, ...tasks } },
      store: createPostgresStore({ url: db.url }),
      adapters: [adapter],
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

it("an instance died between storing a task's end and showing it: a running instance shows the final status", async () => {
  const db = await freshDatabase();
  cleanups.push(() => db.drop());
  const adapters: RecordingAdapter[] = [];
  await twoBots(db, [], adapters);
  // What the dead instance left: the task stored as completed, its status message never edited to say so.
  const dead = createPostgresStore({ url: db.url });
  await dead.open();
  cleanups.push(() => dead.close());
  const now = Date.now();
  const address = { platform: "rec", channel: "c3", user: "carol", direct: true };
  await dead.createTask({ id: "t-dead", rev: 1, sessionId: "s-dead", address, owner: "carol", workflow: "slow", input: {}, status: "completed", percent: 100, result: { text: "done" }, createdAt: now - 2000, updatedAt: now, finishedAt: now, attempts: 1, elapsedMs: 1900 });
  await dead.putOutbox("t-dead", "status", { messageId: "m-dead", platform: "rec", at: now - 1900 });
  const edit = await waitFor(async () => adapters.flatMap((a) => a.edits).find((e) => e.messageId === "m-dead"), "the final status shown", 30_000);
  expect(edit.message.kind).toBe("status");
  expect(edit.message.text).toMatch(/done/i);
  await waitFor(async () => ((await dead.getOutbox("t-dead")).has("status-final") ? true : undefined), "the final status recorded as shown");
  // Shown in place: no second status message.
  expect(adapters.flatMap((a) => a.sent).filter((s) => s.message.taskId === "t-dead")).toEqual([]);
});

it("a person's task limit holds across instances: starts on either count against one limit", async () => {
  const db = await freshDatabase();
  cleanups.push(() => db.drop());
  const [one, two] = await twoBots(db, [], [], { startsPerUserPerMinute: 3 });
  const start = (bot: Bot, n: number) => bot.host.tasks.start({ workflow: "slow", input: {}, address: { platform: "rec", channel: `d${n}`, user: "dave", direct: true } });
  await start(one, 1);
  await start(two, 2);
  await start(one, 3);
  // The fourth, on either instance, is over the limit of 3 a minute.
  await expect(start(two, 4)).rejects.toThrow(/Too many tasks started: the limit is 3 a minute/);
  await expect(start(one, 5)).rejects.toThrow(/Too many tasks started/);
  // Another person is not affected.
  await expect(two.host.tasks.start({ workflow: "slow", input: {}, address: { platform: "rec", channel: "e1", user: "erin", direct: true } })).resolves.toMatchObject({ existed: false });
});
