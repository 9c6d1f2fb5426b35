import { afterEach, describe, expect, it } from "vitest";
import { useTestBots } from "../helpers.ts";

const start = useTestBots(afterEach);

describe("commands", () => {
  it("/help lists the built-in and the routed commands", async () => {
    const t = await start();
    await t.command("help");
    const help = t.replies().at(-1)!;
    for (const name of ["/demo", "/help", "/new", "/cancel", "/status", "/history [n]", "/tasks"]) expect(help).toContain(name);
  });

  it("answers an unknown command with a pointer to /help", async () => {
    const t = await start();
    await t.command("frobnicate");
    expect(t.replies().at(-1)).toBe("Unknown command /frobnicate. Send /help to see the commands.");
  });

  it("/status shows status, percent, step and what the task waits for", async () => {
    const t = await start();
    await t.say("cats");
    await t.expectSent("question", "Which kind of answer");
    await t.command("status");
    expect(t.replies().at(-1)).toMatch(/demo\*\* · waiting · 5% · step: Understanding the request · waiting for an answer: "Which kind of answer do you want\?"/);
  });

  it("/history shows the last n messages and rejects a bad n", async () => {
    const t = await start();
    await t.say("short summary of owls");
    const review = await t.expectSent("review");
    await t.press(review.actions![0]!.id);
    await t.expectSent("result");
    await t.command("history", "3");
    const lines = t.replies().at(-1)!.split("\n");
    expect(lines).toHaveLength(3);
    expect(lines.at(-1)).toMatch(/bot: short summary of owls/);
    await t.command("history", "zero");
    expect(t.replies().at(-1)).toBe("Usage: /history [n], where n is a number from 1 to 200.");
  });

  it("/tasks lists the user's recent tasks; /new starts a fresh session", async () => {
    const t = await start();
    await t.say("short summary of owls");
    const review = await t.expectSent("review");
    await t.press(review.actions![1]!.id);
    await t.expectSent("result", "rejected");
    await t.command("tasks");
    expect(t.replies().at(-1)).toMatch(/demo — completed/);
    const before = (await t.bot.listSessions()).items[0]!;
    await t.command("new");
    expect(t.replies().at(-1)).toBe("Started a fresh session.");
    const sessions = await t.bot.listSessions();
    expect(sessions.items.map((s) => s.state).sort()).toEqual(["closed", "idle"]);
    expect(sessions.items.find((s) => s.state === "idle")!.id).not.toBe(before.id);
  });

  it("/cancel by someone else is refused", async () => {
    const t = await start();
    await t.say("cats");
    await t.expectSent("question");
    await t.command("cancel", "", { user: "mallory" });
    expect(t.notices().at(-1)).toEqual({ text: expect.stringMatching(/only the person who started this task/), user: "mallory", alert: true });
    await t.command("cancel");
    expect(t.replies().at(-1)).toBe("Cancelled.");
  });
});

describe("sessions", () => {
  it("gives workflows the last history.window messages of the session, oldest first", async () => {
    const { defineWorkflow } = await import("../../src/tasks/workflow.ts");
    const recall = defineWorkflow({ name: "recall", run: async (ctx) => ({ text: JSON.stringify(ctx.history.map((m) => m.role)) + ctx.history.at(-1)?.text }) });
    const t = await start({ workflows: [recall], config: { history: { window: 3 } } });
    await t.say("one");
    await t.expectSent("result");
    // Count from before each message: its result may be sent before `say` resolves.
    const beforeTwo = t.adapter.sent.length;
    await t.say("two");
    await t.expectSent("result", undefined, beforeTwo);
    const before = t.adapter.sent.length;
    await t.say("three");
    const result = await t.expectSent("result", undefined, before);
    // Window 3: the previous result, then "three" (oldest first); older messages are cut.
    expect(result.text).toBe('["user","assistant","user"]three');
  });

  it("lists sessions with filters and pages", async () => {
    const t = await start();
    for (let i = 0; i < 5; i++) await t.command("help", "", { channel: `room${i}`, user: i % 2 ? "bob" : "alice" });
    const first = await t.bot.listSessions({ platform: "test" }, { limit: 2 });
    expect(first.items).toHaveLength(2);
    const second = await t.bot.listSessions({ platform: "test" }, { limit: 2, cursor: first.nextCursor! });
    const third = await t.bot.listSessions({ platform: "test" }, { limit: 2, cursor: second.nextCursor! });
    const ids = [...first.items, ...second.items, ...third.items].map((s) => s.id);
    expect(new Set(ids).size).toBe(5);
    expect((await t.bot.listSessions({ user: "bob" })).items).toHaveLength(2);
  });

  it("closes idle sessions after maxIdleHours and opens a new one on the next message", async () => {
    const t = await start({ config: { sessions: { maxIdleHours: 1 } } });
    await t.command("help");
    const { items } = await t.bot.listSessions();
    await t.store.updateSession(items[0]!.id, { lastActiveAt: Date.now() - 2 * 3600_000 });
    expect(await t.bot.sweep()).toMatchObject({ sessionsClosed: 1 });
    await t.command("help");
    const after = await t.bot.listSessions({ state: "idle" });
    expect(after.items).toHaveLength(1);
    expect(after.items[0]!.id).not.toBe(items[0]!.id);
  });

  it("removes finished tasks after their retention", async () => {
    const t = await start({ config: { tasks: { retentionHours: 1 } } });
    await t.say("short summary of owls");
    const review = await t.expectSent("review");
    await t.press(review.actions![1]!.id);
    const task = await t.waitForTask((x) => x.status === "completed");
    await t.store.updateTask(task.id, { finishedAt: Date.now() - 2 * 3600_000 });
    expect(await t.bot.sweep()).toMatchObject({ tasksRemoved: 1 });
    expect(await t.store.getTask(task.id)).toBeUndefined();
  });
});
