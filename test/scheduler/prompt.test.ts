import { afterEach, describe, expect, it } from "vitest";
import { createBot } from "../../src/app.ts";
import { ConfigError } from "../../src/errors.ts";
import { silentLogger } from "../../src/logger.ts";
import type { ConfigInput } from "../../src/config/schema.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import type { Store } from "../../src/store/port.ts";
import { startFakeLlm, type FakeLlm } from "../fakes/llm/server.ts";
import { eventually, useTestBots, type TestBot } from "../helpers.ts";

/**
 * Schedules whose message the assistant writes from a prompt, against the fake
 * OpenAI-compatible server, on real time with a six-field (every second) cron expression: the
 * model call is real HTTP, which fake timers would stall.
 */
const start = useTestBots(afterEach);
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function llm(): Promise<FakeLlm> {
  const fake = await startFakeLlm();
  closers.push(() => fake.close());
  return fake;
}

/** Every-second prompt schedules are made in chat here, so the minimum interval of such schedules is off. */
function llmConfig(fake: FakeLlm, over: ConfigInput = {}): ConfigInput {
  return { llm: { baseURL: fake.baseURL, model: fake.model, systemPrompt: "Be brief." }, scheduler: { minWorkIntervalSeconds: 0 }, ...over };
}

const scheduledPosts = (t: TestBot) => t.adapter.sent.filter((s) => s.message.key?.startsWith("sched:"));

async function onlySchedule(t: TestBot) {
  const all = await t.bot.host.schedules.list();
  expect(all).toHaveLength(1);
  return all[0]!;
}

describe("prompt schedules", () => {
  it("/schedule add … prompt: the model writes each slot's message, posted once per slot and kept in history", async () => {
    const fake = await llm();
    let n = 0;
    fake.script(...Array.from({ length: 20 }, () => ({ text: `Good morning #${++n}, drink water.` })));
    const t = await start({ config: llmConfig(fake), env: { LLM_API_KEY: fake.apiKey } });
    await t.command("schedule", 'add "* * * * * *" prompt: Remind the team to drink water, one line.');
    expect(t.replies().at(-1)).toMatch(/^Scheduled \S+ · "\* \* \* \* \* \*" UTC · next .* · writes from "Remind the team to drink water, one line\."/);
    await eventually(() => scheduledPosts(t).length >= 3, 15_000, "three scheduled posts");
    const schedule = await onlySchedule(t);
    await t.bot.host.schedules.pause(schedule.id);
    await eventually(async () => (await t.bot.host.schedules.list())[0]!.pendingSlot === undefined, 10_000, "the last slot settled");

    const posts = scheduledPosts(t);
    // Once per slot: every post has its own slot, every model answer was posted, none twice.
    const slots = posts.map((p) => p.message.key!);
    expect(new Set(slots).size).toBe(posts.length);
    expect(posts.map((p) => p.message.text)).toEqual(posts.map((_, i) => `Good morning #${i + 1}, drink water.`));
    expect(fake.completions).toHaveLength(posts.length);
    // The model got the prompt, not a streamed request, with no tools.
    const request = fake.completions[0]!;
    expect(request.stream).toBe(false);
    expect(request.messages.at(-1)!.content).toContain("Remind the team to drink water, one line.");
    // In history as scheduled assistant messages.
    const session = (await t.bot.listSessions()).items[0]!;
    const scheduled = (await t.store.listMessages(session.id, 50)).filter((m) => m.source === "scheduled");
    expect(scheduled.map((m) => [m.role, m.text])).toEqual(posts.map((p) => ["assistant", p.message.text]));
  });

  it("withHistory: the model reads the chat's recent messages with their roles", async () => {
    const fake = await llm();
    const t = await start({ config: llmConfig(fake), env: { LLM_API_KEY: fake.apiKey } });
    // With the assistant configured, plain messages go to it: an exchange in history.
    fake.script({ text: "Got it, Friday." });
    await t.say("The release moved to Friday.");
    await t.waitForTask((task) => task.workflow === "assistant" && task.status === "completed");
    fake.script({ text: "Reminder: the release is on Friday." });
    await t.command("schedule", 'add "* * * * * *" history=yes prompt: Sum up the plans in this chat.');
    expect(t.replies().at(-1)).toContain("with the chat's history");
    await eventually(() => scheduledPosts(t).length >= 1, 15_000, "a scheduled post");
    await t.bot.host.schedules.pause((await onlySchedule(t)).id);
    const written = fake.completions.filter((r) => !r.stream);
    expect(written).toHaveLength(1);
    const roles = written[0]!.messages.map((m) => [m.role, m.content]);
    expect(roles[0]).toEqual(["system", expect.stringContaining("Be brief.")]);
    expect(roles).toContainEqual(["user", expect.stringContaining("The release moved to Friday.")]);
    expect(roles).toContainEqual(["assistant", "Got it, Friday."]);
    expect(roles.at(-1)).toEqual(["user", expect.stringContaining("Sum up the plans in this chat.")]);
  });

  it("without the assistant configured, /schedule add … prompt: says what to set and stores nothing", async () => {
    const t = await start();
    await t.command("schedule", 'add "0 9 * * *" prompt: Say good morning.');
    expect(t.replies().at(-1)).toMatch(/LLM_API_KEY.*llm\.baseURL.*llm\.model.*Nothing was scheduled\./s);
    expect(await t.bot.host.schedules.list()).toEqual([]);
    await t.command("schedule", 'add "0 9 * * *" history=yes Say good morning.');
    expect(t.replies().at(-1)).toMatch(/^history= goes with prompt:/);
  });

  it("a prompt schedule in the config file without the assistant is refused at start, naming the field and the variable", async () => {
    const config: ConfigInput = {
      scheduler: { schedules: [{ id: "morning", cron: "0 9 * * *", target: { platform: "test", channel: "c1" }, prompt: "Say good morning." }] },
    };
    const failure = await createBot({ config, store: createMemoryStore(), adapters: [], logger: silentLogger(), env: {} }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as Error).message).toMatch(/^scheduler\.schedules\[0\]\.prompt: .*LLM_API_KEY/);
  });

  it("a refused key posts nothing and pauses the schedule after maxFailures, saying why", async () => {
    const fake = await llm();
    const t = await start({ config: llmConfig(fake, { scheduler: { maxFailures: 2, minWorkIntervalSeconds: 0 } }), env: { LLM_API_KEY: "sk-wrong-key-000" } });
    await t.command("schedule", 'add "* * * * * *" prompt: Say hello.');
    await eventually(async () => (await onlySchedule(t)).enabled === false, 15_000, "the schedule paused");
    const schedule = await onlySchedule(t);
    expect(schedule.pausedReason).toMatch(/^the model can't write it \(The model API refused the key \(HTTP 401\): check LLM_API_KEY\.\)$/);
    expect(schedule.failures).toBe(2);
    expect(scheduledPosts(t)).toEqual([]);
    await t.command("schedule", "list");
    expect(t.replies().at(-1)).toContain("paused (the model can't write it");
    expect(JSON.stringify(t.adapter.sent)).not.toContain("sk-wrong-key-000");
  });

  it("a message cut at llm.maxTokens is not posted half-written", async () => {
    const fake = await llm();
    fake.script({ text: "This message was going to be longer but", finishReason: "length" }, { text: "Short and whole." });
    const t = await start({ config: llmConfig(fake, { scheduler: { maxFailures: 5, minWorkIntervalSeconds: 0 } }), env: { LLM_API_KEY: fake.apiKey } });
    await t.command("schedule", 'add "* * * * * *" prompt: Say hello.');
    await eventually(() => scheduledPosts(t).length >= 1, 15_000, "a scheduled post");
    await t.bot.host.schedules.pause((await onlySchedule(t)).id);
    expect(scheduledPosts(t)[0]!.message.text).toBe("Short and whole.");
    expect(JSON.stringify(t.adapter.sent)).not.toContain("going to be longer");
  });

  it("a model that fails for a while (503 after the SDK's retries) posts nothing for that try; the slot is written and posted later, once", async () => {
    const fake = await llm();
    const busy = { status: 503, retryAfterMs: 5, message: "overloaded" };
    fake.script(busy, busy, busy, { text: "Written at last." });
    const t = await start({ config: llmConfig(fake), env: { LLM_API_KEY: fake.apiKey } });
    await t.command("schedule", 'add "* * * * * *" prompt: Say hello.');
    await eventually(async () => (await onlySchedule(t)).lastError !== undefined || scheduledPosts(t).length > 0, 15_000, "the first try over");
    expect((await onlySchedule(t)).lastError).toBe("The model API failed (HTTP 503), also after retries. Please try again later.");
    expect(scheduledPosts(t)).toEqual([]);
    await eventually(() => scheduledPosts(t).length >= 1, 15_000, "a scheduled post");
    const first = scheduledPosts(t)[0]!;
    expect(first.message.text).toBe("Written at last.");
    await t.bot.host.schedules.pause((await onlySchedule(t)).id);
    // The failed slot was the one posted: the same slot key never appears twice.
    const keys = scheduledPosts(t).map((p) => p.message.key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("a slot written before a crash is posted with that text after the restart, without asking the model again", async () => {
    const fake = await llm();
    const store: Store = createMemoryStore();
    await store.open();
    const now = Date.now();
    const slot = now - 30_000;
    await store.createSchedule({
      id: "s1",
      rev: 1,
      cron: "0 9 * * *",
      timezone: "UTC",
      target: { platform: "test", channel: "c1", user: "alice" },
      prompt: "Say good morning.",
      withHistory: false,
      pendingSlot: slot,
      lastSlot: slot,
      pendingText: "Good morning, written before the crash.",
      enabled: true,
      missedPolicy: "skip",
      failures: 0,
      origin: "chat",
      createdAt: now - 3600_000,
      updatedAt: now,
    });
    const t = await start({ store, config: llmConfig(fake), env: { LLM_API_KEY: fake.apiKey } });
    await eventually(() => scheduledPosts(t).length >= 1, 10_000, "the pending slot posted");
    expect(scheduledPosts(t).map((p) => [p.message.text, p.message.key])).toEqual([["Good morning, written before the crash.", `sched:s1:${slot}`]]);
    expect(fake.completions).toHaveLength(0);
    const schedule = await onlySchedule(t);
    expect(schedule.pendingSlot).toBeUndefined();
    expect(schedule.pendingText).toBeUndefined();
  });
});
