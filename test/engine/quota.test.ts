import { afterEach, describe, expect, it } from "vitest";
import { useTestBots } from "../helpers.ts";

const start = useTestBots(afterEach);
const LIMIT = /^Too many tasks started: the limit is 3 a minute per person \(tasks\.startsPerUserPerMinute\)\. Try again in \d+ s\.$/;

describe("tasks a person may start per minute", () => {
  it("counts commands and messages in fresh chats alike; the fourth is refused with the wait, and nothing starts", async () => {
    const t = await start({ config: { tasks: { startsPerUserPerMinute: 3 } } });
    // Each in a chat of its own, so no task queues behind another: every one is a new start.
    await t.command("demo", "owls", { channel: "a" });
    await t.say("cats", { channel: "b" });
    await t.command("demo", "bats", { channel: "c" });
    expect((await t.store.listTasks({ owner: "alice" })).items).toHaveLength(3);

    await t.command("demo", "moles", { channel: "d" });
    await t.say("voles", { channel: "e" });
    expect(t.replies().filter((r) => LIMIT.test(r))).toHaveLength(2);
    expect((await t.store.listTasks({ owner: "alice" })).items).toHaveLength(3);
  });

  it("counts per person: another user in the same chat is not held by the first one's limit", async () => {
    const t = await start({ config: { tasks: { startsPerUserPerMinute: 1 } } });
    await t.command("demo", "owls", { channel: "a" });
    await t.command("demo", "owls again", { channel: "b" });
    expect(t.replies().at(-1)).toMatch(/^Too many tasks started: the limit is 1 a minute/);
    await t.command("demo", "owls", { channel: "b", user: "bob" });
    expect((await t.store.listTasks({ owner: "bob" })).items).toHaveLength(1);
  });

  it("answers to a waiting question are not task starts", async () => {
    const t = await start({ config: { tasks: { startsPerUserPerMinute: 1 } } });
    await t.say("cats");
    await t.expectSent("question", "Which kind of answer");
    await t.say("1");
    await t.expectSent("review");
    expect(t.replies().some((r) => r.startsWith("Too many tasks"))).toBe(false);
  });

  it("is off with 0", async () => {
    const t = await start({ config: { tasks: { startsPerUserPerMinute: 0 } } });
    for (const channel of ["a", "b", "c", "d", "e", "f"]) await t.command("demo", "owls", { channel });
    expect((await t.store.listTasks({ owner: "alice" })).items).toHaveLength(6);
  });

  it("a refused event is not remembered: the same event sent again once there is room starts its task", async () => {
    const t = await start({ config: { tasks: { startsPerUserPerMinute: 1 } } });
    await t.command("demo", "owls", { channel: "a" });
    const event = { kind: "command" as const, id: "retry-me", address: { platform: "test", channel: "b", user: "alice" }, name: "demo", args: "bats" };
    expect((await t.bot.handle(event)).kind).toBe("limited");
    t.bot.host.tasks.limitPlatform("test", { perMinute: 5, setting: "test" });
    expect((await t.bot.handle(event)).kind).toBe("task");
    expect((await t.bot.handle(event)).kind).toBe("duplicate");
  });
});
