import { afterEach, describe, expect, it } from "vitest";
import type { InboundEvent } from "../../src/model.ts";
import { startFakeDiscord } from "../fakes/discord/server.ts";
import { discordAdapterFor, shown, startDiscordBot } from "./discord-setup.ts";
import { cleanupList } from "./telegram-setup.ts";

// Which replies people see on Discord: the answers to /help, /status, /history, /tasks and
// /schedule list are ephemeral (flag 64), while a task's messages and the answers to commands
// that change the channel's state stay public. Assertions are on what the fake Discord shows to whom.
const cleanup = cleanupList();
afterEach(() => cleanup.run());

async function bot() {
  const h = await startDiscordBot();
  cleanup.add(async () => {
    try {
      expect(h.fake.violations).toEqual([]);
      // Nobody saw "This interaction failed".
      expect(h.fake.failedInteractions).toEqual([]);
    } finally {
      await h.stop();
    }
  });
  return h;
}

describe("discord: answers to queries are ephemeral", () => {
  it("/tasks, /status, /history, /help and /schedule list are seen by their user alone; the channel sees nothing new", async () => {
    const h = await bot();
    const { fake } = h;
    const alice = fake.alice.id;
    // Alice has a task waiting in the channel, and a schedule there.
    const demo = fake.slashCommand({ name: "demo", user: alice, options: { text: "tell me about owls" } });
    await fake.waitUntil(() => shown(fake.originalOf(demo.interactionId)).startsWith("**Waiting for your answer · demo**"), 5000, "the task waiting");
    const add = fake.slashCommand({ name: "schedule", subcommand: "add", user: alice, options: { cron: "0 9 * * *", post: "Stand-up in 10 minutes" } });
    await fake.waitUntil(() => shown(fake.originalOf(add.interactionId)).startsWith("Scheduled "), 5000, "the schedule added, for all to see");
    const visible = () => fake.messages(fake.channel.id).map((m) => `${m.id} ${m.content}`);
    const seenByAll = visible();

    const queries = [
      [{ name: "tasks" }, /demo — waiting/],
      [{ name: "status" }, /^\*\*demo\*\* · waiting/],
      [{ name: "history", options: { count: 20 } }, /you: \/schedule add/],
      [{ name: "help" }, /^Send a message to start a task/],
      [{ name: "schedule", subcommand: "list" }, /"0 9 \\\* \\\* \\\*" UTC .* "Stand-up in 10 minutes"/],
    ] as const;
    for (const [command, answer] of queries) {
      const { interactionId } = fake.slashCommand({ ...command, user: alice });
      const original = await fake.waitUntil(() => fake.originalOf(interactionId)?.content || undefined, 5000, `the answer to /${command.name}`);
      expect(original).toMatch(answer);
      // Deferred with flag 64 at once: even the "thinking…" was Alice's alone.
      expect(fake.callbacks(interactionId).map((c) => [c.type, c.data?.flags])).toEqual([[5, 64]]);
      expect(fake.originalOf(interactionId)!.ephemeralTo).toBe(alice);
    }
    expect(visible()).toEqual(seenByAll);
    expect(fake.ephemerals(fake.bob.id)).toEqual([]);
    expect(fake.ephemerals(alice)).toHaveLength(queries.length);
  });

  it("a refused /cancel: the refusal is its user's alone, and no public \"thinking…\" is left behind", async () => {
    const h = await bot();
    const { fake } = h;
    fake.slashCommand({ name: "demo", user: fake.alice.id, options: { text: "tell me about owls" } });
    await fake.waitUntil(() => fake.messages(fake.channel.id).find((m) => m.content === "Which kind of answer do you want?"), 5000, "the question");
    const cancel = fake.slashCommand({ name: "cancel", user: fake.bob.id });
    await fake.waitUntil(() => fake.ephemerals(fake.bob.id)[0], 5000, "the refusal");
    expect(fake.ephemerals(fake.bob.id).map((m) => m.content)).toEqual([expect.stringMatching(/^Sorry, only the person who started this task, or a reviewer, can cancel it/)]);
    await fake.waitUntil(() => fake.originalOf(cancel.interactionId)?.deleted, 5000, "the placeholder removed");
    expect(fake.messages(fake.channel.id).filter((m) => m.interactionId === cancel.interactionId)).toEqual([]);
    expect((await h.store.listTasks()).items[0]?.status).toBe("waiting");
  });
});

describe("discord: what a private answer never takes", () => {
  it("only the engine's reply to that command, at that address: a task's message sent meanwhile stays public; long answers go on in ephemeral follow-ups", async () => {
    const fake = await startFakeDiscord();
    const adapter = discordAdapterFor(fake);
    cleanup.add(async () => {
      await adapter.stop();
      await fake.close();
      expect(fake.violations).toEqual([]);
    });
    const other = fake.addChannel("other");
    const long = Array.from({ length: 300 }, (_, i) => `line ${i} of the history`).join("\n");
    // What the engine does while it handles /history: a task elsewhere in the same chat posts, and the answer comes in three parts.
    await adapter.start(async (event: InboundEvent) => {
      if (event.kind !== "command") return;
      await adapter.send(event.address, { kind: "question", taskId: "t-1", text: "A task's question", expectsText: true });
      await adapter.send({ ...event.address, channel: other.id }, { kind: "reply", text: "A reply somewhere else" });
      await adapter.send(event.address, { kind: "reply", text: long });
    });
    const { interactionId } = fake.slashCommand({ name: "history", user: fake.alice.id, options: { count: 200 } });
    const parts = () => [fake.originalOf(interactionId), ...fake.followupsOf(interactionId)];
    await fake.waitUntil(() => parts().map((m) => m?.content).join("\n") === long, 5000, "the whole answer");
    expect(parts().length).toBeGreaterThan(2);
    expect(parts().map((m) => m?.ephemeralTo)).toEqual(parts().map(() => fake.alice.id));
    expect(fake.messages(fake.channel.id).map((m) => m.content)).toEqual(["A task's question"]);
    expect(fake.messages(other.id).map((m) => m.content)).toEqual(["A reply somewhere else"]);
  });
});
