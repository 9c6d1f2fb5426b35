import { afterEach, describe, expect, it } from "vitest";
import { ALICE, cleanupList, startTelegramBot } from "./telegram-setup.ts";

const cleanup = cleanupList();
afterEach(() => cleanup.run());

describe("telegram: scheduled posts", () => {
  it("posts on schedule to the chat, and pauses the schedule when the bot is blocked (403)", async () => {
    const t = await startTelegramBot({ config: { scheduler: { maxFailures: 2 } } });
    cleanup.add(() => t.stop());
    t.say('/schedule add "* * * * * *" Time to <stretch> & breathe');
    const confirmation = await t.botMessage((m) => /^Scheduled /.test(m.text ?? ""));
    const id = /^Scheduled (\S+)/.exec(confirmation.text!)![1]!;
    await t.botMessage((m) => m.text === "Time to <stretch> & breathe", ALICE, 5000);

    t.fake.blocked.add(ALICE);
    const deadline = Date.now() + 8000;
    let schedule = await t.bot.store.getSchedule(id);
    while (schedule?.enabled && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      schedule = await t.bot.store.getSchedule(id);
    }
    expect(schedule).toMatchObject({ enabled: false, failures: 2 });
    expect(schedule?.pausedReason).toMatch(/target is gone .*blocked/);
    expect(schedule?.pausedReason).not.toContain(t.fake.token);
    expect((await t.bot.schedulerState()).schedules[0]).toMatchObject({ id, enabled: false, next: null });
    expect(t.fake.violations).toEqual([]);
  });
});
