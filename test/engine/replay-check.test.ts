import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { taskView } from "../../src/api/views.ts";
import { createLowdbStore } from "../../src/store/lowdb/index.ts";
import type { Task } from "../../src/store/records.ts";
import { NonDeterminismError } from "../../src/tasks/replay-check.ts";
import { defineWorkflow, type Workflow } from "../../src/tasks/workflow.ts";
import { eventually, startTestBot, useTestBots, type TestBot } from "../helpers.ts";

const start = useTestBots(afterEach);
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "chatflow-replay-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A bot on the lowdb store in `dir` running `workflow`; `stop()` stops it (once), and the test's end does if it wasn't. */
async function botOn(dir: string, workflow: Workflow<any>): Promise<TestBot & { stop(): Promise<void> }> {
  const t = await startTestBot({ workflows: [workflow], store: createLowdbStore({ dir, logger: { warn: () => undefined } }) });
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= t.bot.stop());
  cleanups.push(stop);
  return { ...t, stop };
}

/** Steps run by the workflows below, in order (cleared by each deploy). */
const runs: string[] = [];
const CHOICES = ["This week", "This month"];

/** Version 1 of the workflow that tasks wait on while it changes. */
const v1 = defineWorkflow({
  name: "report",
  async run(ctx) {
    await ctx.step("collect", () => void runs.push("collect"));
    const period = await ctx.ask("Which period?", { choices: CHOICES });
    const verdict = await ctx.review("Publish?", { data: `report for ${period}` });
    return { text: `${period}: ${verdict.approved ? "published" : "stopped"}` };
  },
});

/** Version 2: the same question in other words. */
const reworded = defineWorkflow({
  name: "report",
  async run(ctx) {
    await ctx.step("collect", () => void runs.push("collect"));
    return { text: await ctx.ask("Which time period?", { choices: CHOICES }) };
  },
});

/**
 * Runs `before` until its task waits on "Which period?", stops the bot, starts a bot on the
 * same lowdb directory with `after` (a deploy while the task waits) and answers the question
 * there with its first choice ("This week") through the button posted before the deploy.
 */
async function deployWhileWaiting(before: Workflow<any>, after: Workflow<any>, dir?: string): Promise<TestBot & { stop(): Promise<void> }> {
  runs.length = 0;
  const where = dir ?? (await tempDir());
  const first = await botOn(where, before);
  await first.say("go");
  const question = await first.expectSent("question", "Which period?");
  await first.waitForTask((task) => task.status === "waiting");
  await first.stop();
  const second = await botOn(where, after);
  await second.press(question.actions![0]!.id);
  return second;
}

/** Waits for the task to fail; checks the person saw why (a reply in the chat and the final status) and the API shows it. */
async function expectStopped(t: TestBot, error: RegExp): Promise<Task> {
  const failed = await t.waitForTask((task) => task.status === "failed");
  expect(failed.error).toMatch(error);
  expect(failed.error).toMatch(/Its code changed while the task waited, or is not deterministic/);
  const notice = await t.expectSent("notice", "Sorry, the task failed:");
  expect(notice.text).toBe(`Sorry, the task failed: ${failed.error}`);
  await eventually(() => t.adapter.edits.some((e) => e.message.kind === "status" && e.message.text.startsWith("Failed · report") && e.message.text.includes(failed.error!)), 5000, "the final status showing the error");
  expect(taskView(failed)).toMatchObject({ status: "failed", error: failed.error });
  await t.command("status");
  expect(t.replies().at(-1)).toContain(`No task is running. The last one: **report** · failed`);
  expect(t.replies().at(-1)).toContain(failed.error!);
  return failed;
}

describe("a workflow changed while its task waits (lowdb restart in between)", () => {
  const cases: Array<[string, Workflow<any>, RegExp]> = [
    [
      "the question's text changed",
      reworded,
      /^The "report" workflow no longer matches this task's history at ask#0: the history holds ask "Which period\?" \(ask#0\), but the code now asks for ask "Which time period\?" \(ask#0\)\./,
    ],
    [
      "the question's choices changed",
      defineWorkflow({
        name: "report",
        async run(ctx) {
          await ctx.step("collect", () => void runs.push("collect"));
          return { text: await ctx.ask("Which period?", { choices: ["Today", "This week"] }) };
        },
      }),
      /at ask#0: the history holds ask "Which period\?" \(ask#0\), but the code now asks for ask "Which period\?" \(ask#0\) asked differently \(its full text, choices or draft changed\)/,
    ],
    [
      "a question was inserted before it (no id)",
      defineWorkflow({
        name: "report",
        async run(ctx) {
          await ctx.step("collect", () => void runs.push("collect"));
          const format = await ctx.ask("Which format?", { choices: ["Short", "Long"] });
          return { text: `${format} ${await ctx.ask("Which period?", { choices: CHOICES })}` };
        },
      }),
      /at ask#0: the history holds ask "Which period\?" \(ask#0\), but the code now asks for ask "Which format\?" \(ask#0\)/,
    ],
    [
      "the ask and the review swapped places",
      defineWorkflow({
        name: "report",
        async run(ctx) {
          await ctx.step("collect", () => void runs.push("collect"));
          const verdict = await ctx.review("Publish?", { data: "report" });
          return { text: `${await ctx.ask("Which period?", { choices: CHOICES })} ${verdict.approved}` };
        },
      }),
      /at position 1: the history holds ask "Which period\?" \(ask#0\), but the code now asks for review "Publish\?" \(review#0\)/,
    ],
    [
      "the step's id changed",
      defineWorkflow({
        name: "report",
        async run(ctx) {
          await ctx.step("gather", () => void runs.push("gather"));
          return { text: await ctx.ask("Which period?", { choices: CHOICES }) };
        },
      }),
      /at position 0: the history holds step "collect" \(step:collect#0\), but the code now asks for step "gather" \(step:gather#0\)/,
    ],
    [
      "the question was removed",
      defineWorkflow({
        name: "report",
        async run(ctx) {
          await ctx.step("collect", () => void runs.push("collect"));
          return { text: "done without asking" };
        },
      }),
      /at ask#0: the history holds ask "Which period\?" \(ask#0\), but the code finished without it\./,
    ],
  ];
  for (const [change, v2, error] of cases) {
    it(`${change}: the answer stops the task with a NonDeterminismError the person sees`, async () => {
      const t = await deployWhileWaiting(v1, v2);
      await expectStopped(t, error);
      // Nothing of the new code ran on the old history, and no result was posted.
      expect(runs).toEqual(["collect"]);
      expect(t.adapter.sent.filter((s) => s.message.kind === "result")).toEqual([]);
    });
  }

  it("an unchanged workflow resumes: the answer goes on to the review, no step runs again", async () => {
    const t = await deployWhileWaiting(v1, v1);
    const review = await t.expectSent("review", "Publish?");
    expect(review.review?.data).toBe("report for This week");
    await t.press(review.actions![0]!.id);
    expect((await t.expectSent("result")).text).toBe("This week: published");
    expect(runs).toEqual(["collect"]);
    // What each entry was is journaled with it.
    const task = await t.waitForTask((x) => x.status === "completed");
    const journal = await t.store.getJournal(task.id);
    expect(journal.get("step:collect#0")).toMatchObject({ kind: "step", id: "collect", seq: 0 });
    expect(journal.get("ask#0")).toMatchObject({ kind: "ask", label: "Which period?", seq: 1, value: "This week" });
    expect(journal.get("review#0")).toMatchObject({ kind: "review", label: "Publish?", seq: 2, value: { approved: true } });
  });
});

describe("asks addressed by id", () => {
  const before = defineWorkflow({
    name: "report",
    async run(ctx) {
      await ctx.step("collect", () => void runs.push("collect"));
      return { text: await ctx.ask("Which period?", { id: "period", choices: CHOICES }) };
    },
  });
  const after = defineWorkflow({
    name: "report",
    async run(ctx) {
      await ctx.step("collect", () => void runs.push("collect"));
      const format = await ctx.ask("Which format?", { choices: ["Short", "Long"] });
      const period = await ctx.ask("Which period?", { id: "period", choices: CHOICES });
      return { text: `${format} report for ${period}` };
    },
  });

  it("survive a question inserted before them while the task waits: the new question is asked, the answer kept", async () => {
    const t = await deployWhileWaiting(before, after);
    const format = await t.expectSent("question", "Which format?");
    await t.press(format.actions![1]!.id);
    expect((await t.expectSent("result")).text).toBe("Long report for This week");
    expect(runs).toEqual(["collect"]);
  });

  it("still stop the task when their text changed under the same id", async () => {
    const renamed = defineWorkflow({
      name: "report",
      async run(ctx) {
        await ctx.step("collect", () => void runs.push("collect"));
        return { text: await ctx.ask("Which month?", { id: "period", choices: CHOICES }) };
      },
    });
    const t = await deployWhileWaiting(before, renamed);
    await expectStopped(t, /at ask:period#0: the history holds ask "Which period\?" \(ask:period#0\), but the code now asks for ask "Which month\?" \(ask:period#0\)/);
  });

  it("are asked anew under a new id: the answer to the retired one is set aside, not given to the new question", async () => {
    const renamed = defineWorkflow({
      name: "report",
      async run(ctx) {
        await ctx.step("collect", () => void runs.push("collect"));
        return { text: await ctx.ask("Which month?", { id: "month", choices: ["May", "June"] }) };
      },
    });
    const t = await deployWhileWaiting(before, renamed);
    const month = await t.expectSent("question", "Which month?");
    await t.press(month.actions![1]!.id);
    expect((await t.expectSent("result")).text).toBe("June");
    expect(runs).toEqual(["collect"]);
  });

  it("refuse an empty id, naming it", async () => {
    const bad = defineWorkflow({ name: "report", run: async (ctx) => ({ text: await ctx.ask("Which period?", { id: "" }) }) });
    const t = await start({ workflows: [bad] });
    await t.say("go");
    const failed = await t.waitForTask((task) => task.status === "failed");
    expect(failed.error).toBe('Expected the `id` of ctx.ask to be a non-empty string, got "".');
  });
});

describe("code that is not deterministic", () => {
  it("a question that differs on replay stops the task, also when the workflow catches the error", async () => {
    let asked = 0;
    const clock = defineWorkflow({
      name: "report",
      async run(ctx) {
        try {
          // Not deterministic: the text changes on every run of `run`.
          const answer = await ctx.ask(`Question number ${++asked}?`);
          return { text: answer };
        } catch (error) {
          if (error instanceof NonDeterminismError) return { text: "swallowed" };
          throw error;
        }
      },
    });
    const t = await start({ workflows: [clock] });
    await t.say("go");
    await t.expectSent("question", "Question number 1?");
    await t.waitForTask((task) => task.status === "waiting");
    await t.say("yes");
    await expectStopped(t, /at ask#0: the history holds ask "Question number 1\?" \(ask#0\), but the code now asks for ask "Question number 2\?" \(ask#0\)/);
    expect(t.replies()).not.toContain("swallowed");
  });
});

describe("journals written before calls were recorded", () => {
  /** Rewrites the task's journal and wait as chatflow stored them before: values only, no kinds, fingerprints or positions. */
  async function makeOldFormat(dir: string, change?: (task: Task) => Partial<Task>): Promise<void> {
    const store = createLowdbStore({ dir, logger: { warn: () => undefined } });
    await store.open();
    try {
      const task = (await store.listTasks({}, { limit: 10 })).items[0]!;
      for (const [key, entry] of await store.getJournal(task.id)) await store.appendJournal(task.id, key, { value: entry.value, at: entry.at });
      const { kind, key, token, question, choices, askedAt } = task.waiting!;
      await store.updateTask(task.id, { waiting: { kind, key, token, question, ...(choices ? { choices } : {}), askedAt }, ...change?.(task) });
    } finally {
      await store.close();
    }
  }

  async function waitThenConvert(change?: (task: Task) => Partial<Task>): Promise<{ dir: string; actionId: string }> {
    runs.length = 0;
    const dir = await tempDir();
    const first = await botOn(dir, v1);
    await first.say("go");
    const question = await first.expectSent("question", "Which period?");
    await first.waitForTask((task) => task.status === "waiting");
    await first.stop();
    await makeOldFormat(dir, change);
    return { dir, actionId: question.actions![0]!.id };
  }

  it("resume as before across the upgrade: the wait is answered, the old step is not run again", async () => {
    const { dir, actionId } = await waitThenConvert();
    const t = await botOn(dir, v1);
    await t.press(actionId);
    const review = await t.expectSent("review", "Publish?");
    await t.press(review.actions![0]!.id);
    expect((await t.expectSent("result")).text).toBe("This week: published");
    expect(runs).toEqual(["collect"]);
    const task = await t.waitForTask((x) => x.status === "completed");
    const journal = await t.store.getJournal(task.id);
    expect(journal.get("step:collect#0")).toEqual({ value: null, at: expect.any(Number) });
  });

  it("resume an answer an older version accepted but did not journal yet", async () => {
    const { dir } = await waitThenConvert((task) => ({ status: "queued", waiting: undefined, answer: { key: task.waiting!.key, value: "This month" } }));
    const t = await botOn(dir, v1);
    const review = await t.expectSent("review", "Publish?");
    expect(review.review?.data).toBe("report for This month");
  });

  it("still catch a waiting question that the new code words differently (the wait keeps its question)", async () => {
    const { dir, actionId } = await waitThenConvert();
    const t = await botOn(dir, reworded);
    await t.press(actionId);
    await expectStopped(t, /at ask#0: the history holds ask "Which period\?" \(ask#0\), but the code now asks for ask "Which time period\?"/);
  });
});
