import { afterEach, describe, expect, it } from "vitest";
import type { InboundEvent } from "../../src/model.ts";
import { startFakeSlack } from "../fakes/slack/server.ts";
import { ALICE, BOB, CHANNEL, shown, slackAdapterFor, startSlackBot } from "./slack-setup.ts";
import { cleanupList } from "./telegram-setup.ts";

// Which replies people see: the answer to a `/chatflow` query is the typist's alone (Slack's
// own default for slash commands), while a task's messages and conversation replies stay in
// the thread for everyone. Assertions are on what the fake Slack shows to whom.
const cleanup = cleanupList();
afterEach(() => cleanup.run());

async function bot() {
  const h = await startSlackBot();
  cleanup.add(async () => {
    try {
      expect(h.fake.violations).toEqual([]);
      expect(h.fake.acks.filter((a) => a.latencyMs > 3000)).toEqual([]);
    } finally {
      await h.stop();
    }
  });
  return h;
}

type Harness = Awaited<ReturnType<typeof bot>>;

/** Runs `/chatflow <text>` as `user` in `channel`; resolves with the ephemeral it brought that user. */
async function ask(h: Harness, text: string, options: { user?: string; channel?: string } = {}): Promise<string> {
  const user = options.user ?? ALICE;
  const channel = options.channel ?? CHANNEL;
  const before = h.fake.ephemerals(user, channel).length;
  const { envelopeId } = h.fake.slashCommand({ command: "/chatflow", text, user, channel });
  await h.fake.waitForAck(envelopeId);
  const answer = await h.fake.waitUntil(() => h.fake.ephemerals(user, channel)[before], 5000, `the answer to /chatflow ${text}`);
  return shown(answer);
}

describe("slack: answers to /chatflow queries are private", () => {
  it("tasks, status, history, help and schedule list answer the typist alone, through the command's response_url; the channel sees nothing", async () => {
    const h = await bot();
    const { fake } = h;
    // Alice has a task (a /demo in a thread of its own), and a schedule in the channel.
    fake.slashCommand({ command: "/demo", text: "tell me about owls", user: ALICE, channel: CHANNEL });
    const root = await h.botMessage((text) => text === "Request: /demo tell me about owls", { channel: CHANNEL });
    await h.botMessage((text) => text === "Which kind of answer do you want?", { channel: CHANNEL, threadTs: root.ts });
    // The status message settles while the task waits.
    await h.botMessage((text) => text.startsWith("*Waiting for your answer · demo*"), { channel: CHANNEL, threadTs: root.ts });
    fake.slashCommand({ command: "/chatflow", text: 'schedule add "0 9 * * *" Stand-up in 10 minutes', user: ALICE, channel: CHANNEL });
    await h.botMessage((text) => text.startsWith("Scheduled "), { channel: CHANNEL });
    const visible = () => fake.messages(CHANNEL).map((m) => `${m.ts} ${m.edits} ${m.text}`);
    const seenByAll = visible();

    expect(await ask(h, "tasks")).toMatch(/demo — waiting/);
    expect(await ask(h, "status")).toMatch(/^No task is running/);
    expect(await ask(h, "history 20")).toMatch(/you: \/schedule add/);
    expect(await ask(h, "help")).toMatch(/^Send a message to start a task/);
    expect(await ask(h, "schedule list")).toMatch(/"0 9 \* \* \*" UTC .* "Stand-up in 10 minutes"/);

    // Nothing new in the channel; Bob saw none of it; each answer went to a response_url, not the channel.
    expect(visible()).toEqual(seenByAll);
    expect(fake.ephemerals(BOB)).toEqual([]);
    expect(fake.ephemerals(ALICE, CHANNEL)).toHaveLength(5);
    expect(fake.responses.filter((r) => r.via !== "ack").map((r) => [r.status, r.body.response_type])).toEqual(Array(5).fill([200, "ephemeral"]));
    expect(fake.callsOf("chat.postEphemeral")).toEqual([]);
  });

  it("is answered in a channel the bot was never invited to (a response_url needs no membership)", async () => {
    const h = await bot();
    h.fake.notInChannel.add("C0ELSEWHERE");
    expect(await ask(h, "status", { channel: "C0ELSEWHERE" })).toMatch(/^No task is running/);
    expect(h.fake.messages("C0ELSEWHERE")).toEqual([]);
  });

  it("a typo'd command's hint is private too; a refusal of a slash command comes on its response_url", async () => {
    const h = await bot();
    const { fake } = h;
    expect(await ask(h, "frobnicate")).toMatch(/^Unknown command \/frobnicate/);
    fake.slashCommand({ command: "/chatflow", text: 'schedule add "0 9 * * *" Stand-up', user: ALICE, channel: CHANNEL });
    const scheduled = await h.botMessage((text) => text.startsWith("Scheduled "), { channel: CHANNEL });
    const id = /^Scheduled (\S+)/.exec(scheduled.text)![1]!;
    // Bob may not remove Alice's schedule: told so, alone.
    expect(await ask(h, `schedule remove ${id}`, { user: BOB })).toMatch(/^Sorry, only the person who made this schedule/);
    expect(fake.messages(CHANNEL).map((m) => shown(m))).toEqual([scheduled.text]);
    expect(fake.ephemerals(ALICE)).toHaveLength(1);
  });
});

describe("slack: conversations and tasks stay visible", () => {
  it("a task's status and questions stay in its thread; @chatflow /status in that thread is answered there, for everyone", async () => {
    const h = await bot();
    const { fake } = h;
    const { ts: thread } = fake.mention({ channel: CHANNEL, user: ALICE, text: `<@${fake.bot.userId}> tell me about owls` });
    const where = { channel: CHANNEL, threadTs: thread };
    await h.botMessage((text) => text === "Which kind of answer do you want?", where);
    fake.userMessage({ channel: CHANNEL, user: ALICE, text: `<@${fake.bot.userId}> /status`, threadTs: thread });
    await h.botMessage((text) => text.startsWith("*demo* · waiting"), where);
    expect(fake.ephemerals(ALICE)).toEqual([]);
  });
});

describe("slack: what a private answer never takes", () => {
  it("only the engine's reply to that command, at that address: a task's message sent meanwhile, or a reply elsewhere, stays visible", async () => {
    const fake = await startFakeSlack();
    const adapter = slackAdapterFor(fake);
    cleanup.add(async () => {
      await adapter.stop();
      await fake.close();
      expect(fake.violations).toEqual([]);
    });
    // What the engine does while it handles /chatflow history: a task posts in the same place, a reply goes elsewhere, then the answer.
    await adapter.start(async (event: InboundEvent) => {
      if (event.kind !== "command") return;
      await adapter.send(event.address, { kind: "status", taskId: "t-1", text: "Working · demo", progress: { percent: 10, state: "running" } });
      await adapter.send({ ...event.address, channel: "C0OTHER" }, { kind: "reply", text: "A reply somewhere else" });
      await adapter.send(event.address, { kind: "reply", text: "The last 5 messages" });
    });
    await fake.waitForConnection();
    fake.slashCommand({ command: "/chatflow", text: "history 5", user: ALICE, channel: CHANNEL });
    await fake.waitUntil(() => fake.ephemerals(ALICE, CHANNEL)[0], 5000, "the answer");
    expect(fake.ephemerals(ALICE).map((e) => shown(e))).toEqual(["The last 5 messages"]);
    expect(fake.botMessages(CHANNEL).map((m) => shown(m))).toEqual([expect.stringContaining("Working · demo")]);
    expect(fake.botMessages("C0OTHER").map((m) => shown(m))).toEqual(["A reply somewhere else"]);
  });
});
