import { afterEach, describe, expect, it } from "vitest";
import type { Address } from "../../src/model.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import { defineWorkflow } from "../../src/tasks/workflow.ts";
import { useTestBots } from "../helpers.ts";

/**
 * Who may answer, review or cancel a task: in groups, channels and threads only the person
 * who started it and the configured reviewers; in a direct chat the chat's user; a schedule's
 * task its maker and the reviewers. Everyone else is told so privately.
 */
const start = useTestBots(afterEach);

const period = defineWorkflow({
  name: "period",
  async run(ctx) {
    const scope = await ctx.ask("Which period?", { choices: ["This week", "This month"] });
    return { text: `Report for ${scope}` };
  },
});

const group = (user: string): Partial<Address> => ({ channel: "group-1", user });
const direct = (user: string): Partial<Address> => ({ channel: "dm-1", user, direct: true });

describe("who may act on a task", () => {
  it("in a group: not the person who spoke to the bot first, not a bystander; the starter may", async () => {
    const t = await start({ workflows: [period] });
    await t.command("help", "", group("alice")); // alice opens the group's session
    await t.say("go", group("bob"));
    const question = await t.expectSent("question", "Which period?");
    const sentBefore = t.adapter.sent.length;

    await t.press(question.actions![0]!.id, group("alice"));
    await t.press(question.actions![1]!.id, group("carol"));
    expect(t.notices()).toEqual([
      { text: expect.stringMatching(/only the person who started this task, or a reviewer/), user: "alice", alert: true },
      { text: expect.stringMatching(/only the person who started this task, or a reviewer/), user: "carol", alert: true },
    ]);
    // Nothing was posted to the group, and the task still waits.
    expect(t.adapter.sent.length).toBe(sentBefore);
    expect((await t.store.listTasks()).items[0]?.status).toBe("waiting");

    await t.press(question.actions![1]!.id, group("bob"));
    expect((await t.expectSent("result")).text).toBe("Report for This month");
  });

  it("in a group: a typed answer or /cancel from someone else is refused privately", async () => {
    const t = await start({ workflows: [period] });
    await t.say("go", group("bob"));
    await t.expectSent("question", "Which period?");
    await t.say("This week", group("carol"));
    await t.command("cancel", "", group("carol"));
    expect(t.notices().map((n) => n.user)).toEqual(["carol", "carol"]);
    expect((await t.store.listTasks()).items[0]?.status).toBe("waiting");
    await t.say("This week", group("bob"));
    expect((await t.expectSent("result")).text).toBe("Report for This week");
  });

  it("in a group: a configured reviewer may answer anyone's task", async () => {
    const t = await start({ workflows: [period], config: { reviewers: ["test:rita"] } });
    await t.say("go", group("bob"));
    const question = await t.expectSent("question", "Which period?");
    await t.press(question.actions![0]!.id, group("rita"));
    expect((await t.expectSent("result")).text).toBe("Report for This week");
    expect(t.notices()).toEqual([]);
  });

  it("in a direct chat: the chat's user may answer a task someone else started there", async () => {
    const t = await start({ workflows: [period] });
    // A task in the DM that the DM's user did not start (e.g. started by an operator's tool).
    await t.say("go", { ...direct("operator"), direct: false });
    const question = await t.expectSent("question", "Which period?");
    await t.press(question.actions![0]!.id, direct("dora"));
    expect((await t.expectSent("result")).text).toBe("Report for This week");
  });

  it("a stale or unknown button is answered privately", async () => {
    const t = await start({ workflows: [period] });
    await t.press("cf:t-gone:tok:0", group("bob"));
    expect(t.notices()).toEqual([{ text: expect.stringMatching(/expired/), user: "bob", alert: false }]);
  });

  it("without private notices, the adapter's chat gets the refusal instead", async () => {
    const t = await start({ workflows: [period], privateNotices: false });
    await t.say("go", group("bob"));
    const question = await t.expectSent("question", "Which period?");
    await t.press(question.actions![0]!.id, group("carol"));
    await t.expectSent("reply", "only the person who started this task");
  });
});

describe("who may act on a schedule's task", () => {
  const DAY = 24 * 3600_000;
  async function withSchedule(user: string, channel: string) {
    const store = createMemoryStore();
    await store.open();
    const now = Date.now();
    // A daily schedule that missed yesterday's slot: `latest` fires it at start-up.
    await store.createSchedule({
      id: "daily",
      rev: 1,
      cron: "0 0 * * *",
      timezone: "UTC",
      target: { platform: "test", channel, user },
      workflow: "period",
      input: { text: "" },
      enabled: true,
      missedPolicy: "latest",
      failures: 0,
      origin: user === "scheduler" ? "config" : "chat",
      createdAt: now - 3 * DAY,
      updatedAt: now - 3 * DAY,
    });
    await store.close();
    return store;
  }

  it("in a group: the schedule's maker may answer; others are refused privately", async () => {
    const t = await start({ workflows: [period], store: await withSchedule("mia", "group-1"), config: { reviewers: ["test:rita"] } });
    const question = await t.expectSent("question", "Which period?");
    await t.press(question.actions![0]!.id, group("bob"));
    expect(t.notices()).toEqual([{ text: expect.stringMatching(/only the person who started this task/), user: "bob", alert: true }]);
    await t.press(question.actions![1]!.id, group("mia"));
    expect((await t.expectSent("result")).text).toBe("Report for This month");
  });

  it("a schedule from the configuration: a reviewer may answer, and in a direct chat the chat's user", async () => {
    // The file's schedule, as stored by an earlier run (kept in sync by id).
    const fromFile = (channel: string) => ({
      scheduler: { schedules: [{ id: "daily", cron: "0 0 * * *", target: { platform: "test", channel }, workflow: "period", input: { text: "" }, missedPolicy: "latest" as const }] },
    });
    const inGroup = await start({ workflows: [period], store: await withSchedule("scheduler", "group-1"), config: { reviewers: ["test:rita"], ...fromFile("group-1") } });
    const asked = await inGroup.expectSent("question", "Which period?");
    await inGroup.press(asked.actions![0]!.id, group("bob"));
    expect(inGroup.notices().map((n) => n.user)).toEqual(["bob"]);
    await inGroup.press(asked.actions![0]!.id, group("rita"));
    await inGroup.expectSent("result");

    const inDm = await start({ workflows: [period], store: await withSchedule("scheduler", "dm-1"), config: fromFile("dm-1") });
    const question = await inDm.expectSent("question", "Which period?");
    await inDm.press(question.actions![1]!.id, direct("dora"));
    expect((await inDm.expectSent("result")).text).toBe("Report for This month");
  });
});
