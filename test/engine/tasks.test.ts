import { afterEach, describe, expect, it } from "vitest";
import { NonRetriableError } from "../../src/errors.ts";
import { defineWorkflow } from "../../src/tasks/workflow.ts";
import { useTestBots } from "../helpers.ts";

const start = useTestBots(afterEach);

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
});

describe("ask", () => {
  const runs: string[] = [];
  const period = defineWorkflow({
    name: "period",
    async run(ctx) {
      await ctx.step("collect", () => void runs.push("collect"));
      const scope = await ctx.ask("Which period?", { choices: ["This week", "This month"] });
      const name = await ctx.ask("Your name?");
      return { text: `${scope} for ${name}` };
    },
  });

  it("asks with buttons, then free text, and resumes without redoing steps", async () => {
    runs.length = 0;
    const t = await start({ workflows: [period] });
    await t.say("go");
    const question = await t.expectSent("question", "Which period?");
    expect(question.actions?.filter((a) => a.role === "choice").map((a) => a.label)).toEqual(["This week", "This month"]);
    for (const action of question.actions ?? []) expect(Buffer.byteLength(action.id)).toBeLessThanOrEqual(64);
    const status = await t.bot.store.listTasks();
    expect(status.items[0]?.status).toBe("waiting");
    await t.press(question.actions![1]!.id);
    const free = await t.expectSent("question", "Your name?");
    expect(free.expectsText).toBe(true);
    await t.say("Ada");
    const result = await t.expectSent("result");
    expect(result.text).toBe("This month for Ada");
    expect(runs).toEqual(["collect"]);
  });

  it("accepts a typed choice; a text that is none of the choices is a new request, queued with a hint at the waiting question", async () => {
    const t = await start({ workflows: [period] });
    await t.say("go");
    await t.expectSent("question", "Which period?");
    await t.say("next year");
    expect(t.replies().at(-1)).toMatch(/^Queued: .*waiting for your answer above: pick one of This week, This month/);
    expect((await t.bot.store.listTasks()).items).toHaveLength(2);
    await t.say("1");
    await t.expectSent("question", "Your name?");
  });

  it("accepts a double click once", async () => {
    const t = await start({ workflows: [period] });
    await t.say("go");
    const question = await t.expectSent("question", "Which period?");
    const id = question.actions![0]!.id;
    await Promise.all([t.press(id), t.press(id)]);
    await t.expectSent("question", "Your name?");
    // The second press is told privately, not in the chat.
    expect(t.notices().filter((n) => /already answered/.test(n.text))).toHaveLength(1);
    expect(t.replies().filter((r) => /already answered/.test(r))).toHaveLength(0);
    const task = (await t.store.listTasks()).items[0]!;
    const journal = await t.store.getJournal(task.id);
    expect(journal.get("ask#0")?.value).toBe("This week");
  });

  it("lets a configured reviewer answer", async () => {
    const t = await start({ workflows: [period], config: { reviewers: ["test:bob"] } });
    await t.say("go");
    const question = await t.expectSent("question", "Which period?");
    await t.press(question.actions![0]!.id, { user: "bob" });
    await t.expectSent("question", "Your name?");
  });
});

describe("review", () => {
  const publish = defineWorkflow({
    name: "publish",
    async run(ctx) {
      const draft = await ctx.step("draft", () => "first draft");
      const verdict = await ctx.review("Publish?", { data: draft });
      if (!verdict.approved) return { text: `rejected: ${verdict.feedback ?? "-"}` };
      return { text: `published: ${verdict.edited ?? draft} / ${verdict.feedback ?? "-"}` };
    },
  });

  it("approve", async () => {
    const t = await start({ workflows: [publish] });
    await t.say("go");
    const review = await t.expectSent("review", "Publish?");
    expect(review.review?.data).toBe("first draft");
    expect(review.actions?.map((a) => a.role)).toEqual(["approve", "reject", "edit"]);
    await t.press(review.actions![0]!.id);
    expect((await t.expectSent("result")).text).toBe("published: first draft / -");
  });

  it("reject with feedback", async () => {
    const t = await start({ workflows: [publish] });
    await t.say("go");
    const review = await t.expectSent("review");
    await t.press(review.actions![1]!.id, undefined, { feedback: "too short" });
    expect((await t.expectSent("result")).text).toBe("rejected: too short");
  });

  it("edit through messages: corrected text, then feedback", async () => {
    const t = await start({ workflows: [publish] });
    await t.say("go");
    const review = await t.expectSent("review");
    await t.press(review.actions![2]!.id);
    await t.expectSent("question", "corrected text");
    await t.say("better draft");
    await t.expectSent("question", "feedback");
    await t.say("mind the tone");
    expect((await t.expectSent("result")).text).toBe("published: better draft / mind the tone");
  });

  it("edit from a form with text and feedback at once", async () => {
    const t = await start({ workflows: [publish] });
    await t.say("go");
    const review = await t.expectSent("review");
    await t.press(review.actions![2]!.id, undefined, { text: "form draft", feedback: "ok" });
    expect((await t.expectSent("result")).text).toBe("published: form draft / ok");
  });
});

describe("cancel, timeout, retry", () => {
  it("cancels a running task at the next step boundary and aborts its signal", async () => {
    let aborted = false;
    const slow = defineWorkflow({
      name: "slow",
      async run(ctx) {
        await ctx.step("wait", async (signal) => {
          signal.addEventListener("abort", () => (aborted = true));
          await sleep(5000, signal);
        });
        return { text: "never" };
      },
    });
    const t = await start({ workflows: [slow] });
    await t.say("go");
    await t.waitForTask((task) => task.status === "running");
    await t.command("cancel");
    const task = await t.waitForTask((x) => x.status === "cancelled");
    expect(aborted).toBe(true);
    expect(t.replies()).toContain("Cancelled.");
    expect(t.adapter.sent.some((s) => s.message.kind === "result")).toBe(false);
    expect(task.finishedAt).toBeDefined();
  });

  it("answers /cancel at once even when a step ignores its signal, and ends the task when the step returns", async () => {
    const stubborn = defineWorkflow({
      name: "stubborn",
      async run(ctx) {
        await ctx.step("deaf", () => sleep(2600));
        await ctx.step("never", () => "x");
        return { text: "never" };
      },
    });
    const t = await start({ workflows: [stubborn] });
    await t.say("go");
    await t.waitForTask((task) => task.status === "running");
    const asked = Date.now();
    await t.command("cancel");
    expect(Date.now() - asked).toBeLessThan(2500);
    expect(t.replies().at(-1)).toBe("Cancelling: the task stops at its next step.");
    await t.waitForTask((x) => x.status === "cancelled");
    expect(t.adapter.sent.some((s) => s.message.kind === "result")).toBe(false);
  });

  it("cancels a waiting task from its Cancel button", async () => {
    const asking = defineWorkflow({ name: "asking", run: async (ctx) => ({ text: await ctx.ask("Pick", { choices: ["a", "b"] }) }) });
    const t = await start({ workflows: [asking] });
    await t.say("go");
    const q = await t.expectSent("question");
    await t.press(q.actions!.find((a) => a.role === "cancel")!.id);
    await t.waitForTask((x) => x.status === "cancelled");
  });

  it("fails a task that runs past its timeout and tells the person", async () => {
    const stuck = defineWorkflow({ name: "stuck", timeoutMs: 100, run: async (ctx) => (await ctx.step("s", (signal) => sleep(5000, signal)), { text: "x" }) });
    const t = await start({ workflows: [stuck] });
    await t.say("go");
    const task = await t.waitForTask((x) => x.status === "failed");
    expect(task.error).toMatch(/timeout/);
    await t.expectSent("notice", "Sorry, the task failed");
  });

  it("retries a failing step with backoff, but not a NonRetriableError", async () => {
    let attempts = 0;
    let fatal = 0;
    const flaky = defineWorkflow({
      name: "flaky",
      async run(ctx) {
        const value = await ctx.step("flaky", () => {
          attempts++;
          if (attempts < 3) throw new Error("temporary");
          return "ok";
        });
        return { text: value };
      },
    });
    const broken = defineWorkflow({
      name: "broken",
      async run(ctx) {
        await ctx.step("fatal", () => {
          fatal++;
          throw new NonRetriableError("bad input");
        });
        return { text: "x" };
      },
    });
    const t = await start({ workflows: [flaky, broken] });
    await t.say("go");
    expect((await t.expectSent("result")).text).toBe("ok");
    expect(attempts).toBe(3);
    await t.command("broken", "", { channel: "c2" });
    const failed = await t.waitForTask((x) => x.workflow === "broken" && x.status === "failed");
    expect(fatal).toBe(1);
    expect(failed.error).toBe("bad input");
  });
});

describe("limits", () => {
  it("runs at most `concurrency` tasks at once, one per session, and queues the rest", async () => {
    let running = 0;
    let peak = 0;
    const busy = defineWorkflow({
      name: "busy",
      async run(ctx) {
        await ctx.step("work", async () => {
          running++;
          peak = Math.max(peak, running);
          await sleep(30);
          running--;
        });
        return { text: "done" };
      },
    });
    const t = await start({ workflows: [busy], config: { tasks: { concurrency: 2 } } });
    await Promise.all(Array.from({ length: 6 }, (_, i) => t.say("go", { channel: `ch${i}` })));
    await t.say("again", { channel: "ch0" });
    for (let i = 0; i < 50 && (await t.store.listTasks({ status: "completed" })).items.length < 7; i++) await sleep(20);
    expect((await t.store.listTasks({ status: "completed" })).items).toHaveLength(7);
    expect(peak).toBe(2);
    expect(t.replies()).toContain("Queued: I'll start on this as soon as the current task is done.");
  });

  it("with tasks.busy: reject, answers a second request with a hint instead of queuing it", async () => {
    const t = await start({ config: { tasks: { busy: "reject" } } });
    await t.say("owls");
    await t.expectSent("question");
    await t.command("demo", "cats");
    expect(t.replies().at(-1)).toBe("I'm still working on your previous request. Send /status to see where it is, or /cancel to stop it.");
    expect((await t.store.listTasks()).items).toHaveLength(1);
  });

  it("answers an oversize message with the limit and starts nothing", async () => {
    const t = await start({ config: { history: { maxMessageLength: 100 } } });
    await t.say("x".repeat(101));
    expect(t.replies().at(-1)).toBe("Your message is 101 characters long; the limit is 100. Please send a shorter one.");
    expect((await t.store.listTasks()).items).toHaveLength(0);
  });

  it("ignores a re-delivered event", async () => {
    const t = await start({ config: { workflows: { demo: { stepDelayMs: 1 } } } });
    const event = { kind: "message" as const, id: "same", address: { platform: "test", channel: "c1", user: "alice" }, text: "short summary of cats" };
    await t.adapter.deliver(event);
    await t.adapter.deliver(event);
    await Promise.all([t.adapter.deliver({ ...event, id: "twin" }), t.adapter.deliver({ ...event, id: "twin" })]);
    const session = (await t.bot.listSessions()).items[0]!;
    const messages = await t.store.listMessages(session.id, 50);
    expect(messages.filter((m) => m.role === "user")).toHaveLength(2);
    expect((await t.store.listTasks()).items).toHaveLength(2);
  });
});

describe("what bot.handle says it did", () => {
  it("the task it started, a re-delivery as a duplicate, and anything else as handled", async () => {
    const t = await start({ config: { workflows: { demo: { stepDelayMs: 1 } } } });
    const address = { platform: "test", channel: "c1", user: "alice" };
    const message = { kind: "message" as const, id: "m-1", address, text: "short summary of cats" };
    const started = await t.bot.handle(message);
    expect(started).toEqual({ kind: "task", taskId: expect.stringMatching(/^t-/) });
    expect(await t.store.getTask(started.kind === "task" ? started.taskId : "")).toMatchObject({ workflow: "demo", sessionId: expect.any(String) });
    expect(await t.bot.handle(message)).toEqual({ kind: "duplicate" });
    // What the bot answered comes with it (for the HTTP API).
    expect(await t.bot.handle({ kind: "command", id: "c-1", address, name: "help", args: "" })).toEqual({ kind: "handled", replies: [expect.stringContaining("/status")] });
    expect(await t.bot.handle({ kind: "message", id: "m-2", address, text: "x".repeat(100_000) })).toEqual({ kind: "handled", replies: [expect.stringMatching(/^Your message is 100,000 characters long/)] });
    expect(await t.bot.handle({ kind: "teleport", id: "y" } as never)).toEqual({ kind: "handled" });
  });
});

describe("bad input", () => {
  it("ignores a malformed event without crashing and goes on", async () => {
    const t = await start();
    await t.adapter.deliver({ kind: "message", id: "x", address: { platform: "test" } } as never);
    await t.adapter.deliver({ kind: "teleport", id: "y" } as never);
    expect(t.adapter.sent).toHaveLength(0);
    await t.command("help");
    expect(t.replies().at(-1)).toMatch(/^Send a message to start a task/);
  });
});
