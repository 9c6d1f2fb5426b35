import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createMemoryStore } from "../../src/store/memory.ts";
import { useTestBots } from "../helpers.ts";

/**
 * What one person's schedules may start: a schedule made in chat that runs a workflow may not
 * fire more often than `scheduler.minWorkIntervalSeconds`, and each task it starts counts
 * against its maker's `tasks.startsPerUserPerMinute` like one they started by hand.
 */
const start = useTestBots(afterEach);

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2027-01-04T08:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("what a schedule may start", () => {
  it("refuses a chat-made workflow schedule that fires more often than the minimum interval; text schedules are not bound", async () => {
    const t = await start();
    await t.command("schedule", 'add "* * * * * *" /demo a short summary of the news');
    expect(t.replies().at(-1)).toBe(
      '"* * * * * *" fires as often as every 1 s; a schedule that runs a workflow may fire at most once every 60 s (scheduler.minWorkIntervalSeconds). Nothing was scheduled.',
    );
    await t.command("schedule", 'add "0,30 * * * * *" /demo a short summary');
    expect(t.replies().at(-1)).toMatch(/fires as often as every 30 s; .* Nothing was scheduled\.$/);
    expect(await t.bot.host.schedules.list()).toHaveLength(0);

    await t.command("schedule", 'add "* * * * *" /demo a short summary of the news');
    expect(t.replies().at(-1)).toMatch(/^Scheduled /);
    await t.command("schedule", 'add "* * * * * *" Stretch!');
    expect(t.replies().at(-1)).toMatch(/^Scheduled /);
    expect(await t.bot.host.schedules.list()).toHaveLength(2);
  });

  it("counts a schedule's tasks against its maker: past the limit its slots are skipped (said in /schedule list), and the maker's own requests wait too", async () => {
    const t = await start({ config: { tasks: { startsPerUserPerMinute: 2 }, scheduler: { minWorkIntervalSeconds: 0 } } });
    await t.command("schedule", 'add "* * * * * *" /demo a short summary of the news');
    expect(t.replies().at(-1)).toMatch(/^Scheduled /);
    await vi.advanceTimersByTimeAsync(8_000);

    const scheduled = (await t.store.listTasks({ owner: "alice" })).items;
    expect(scheduled).toHaveLength(2);
    const [schedule] = await t.bot.host.schedules.list();
    expect(schedule!.pendingSlot).toBeUndefined();
    expect(schedule!.lastError).toMatch(/^a slot was skipped: Too many tasks started: the limit is 2 a minute per person/);
    await t.command("schedule", "list");
    expect(t.replies().at(-1)).toMatch(/last try failed: a slot was skipped: Too many tasks started/);

    await t.command("demo", "owls", { channel: "elsewhere" });
    expect(t.replies().at(-1)).toMatch(/^Too many tasks started/);
    // Bob's limit is his own.
    await t.command("demo", "owls", { channel: "elsewhere", user: "bob" });
    expect((await t.store.listTasks({ owner: "bob" })).items).toHaveLength(1);
  });

  it("does not bound or count the operator's schedules from the config file", async () => {
    const t = await start({
      store: createMemoryStore(),
      config: {
        tasks: { startsPerUserPerMinute: 1 },
        scheduler: { schedules: [{ id: "ops", cron: "* * * * * *", target: { platform: "test", channel: "ops" }, workflow: "demo", input: { text: "a short summary" } }] },
      },
    });
    await vi.advanceTimersByTimeAsync(4_000);
    expect((await t.store.listTasks({ owner: "scheduler" })).items.length).toBeGreaterThanOrEqual(3);
    expect((await t.bot.host.schedules.list())[0]!.lastError).toBeUndefined();
  });
});
