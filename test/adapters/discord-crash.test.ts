import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeDiscord, type FakeDiscord } from "../fakes/discord/server.ts";
import { shown } from "./discord-setup.ts";
import { spawnWorker, type Worker } from "./fixtures/spawn-worker.ts";
import { cleanupList } from "./telegram-setup.ts";

/**
 * A real process running chatflow on Discord is killed with SIGKILL in the middle of a task,
 * its interaction token lost with it, and started again on the same data: the task's status
 * message (the slash command's response) is edited again, through the channel, to the end.
 */
const worker = fileURLToPath(new URL("./fixtures/discord-worker.ts", import.meta.url));
const cleanup = cleanupList();
afterEach(() => cleanup.run());

function spawn(fake: FakeDiscord, dir: string): Worker {
  return spawnWorker(worker, { CRASH_DIR: dir, DISCORD_BOT_TOKEN: fake.token, DISCORD_API_URL: fake.apiUrl, DISCORD_GUILD_ID: fake.guild.id }, (fn) => cleanup.add(fn));
}

describe("discord: SIGKILL mid-task", () => {
  it("after a kill, the same status message (the command's response) is edited again, to the end", async () => {
    const fake = await startFakeDiscord();
    cleanup.add(() => fake.close());
    const dir = await mkdtemp(path.join(tmpdir(), "chatflow-discord-crash-"));
    cleanup.add(() => rm(dir, { recursive: true, force: true }));

    const first = spawn(fake, dir);
    await first.ready;
    const { interactionId } = fake.slashCommand({ name: "demo", user: fake.alice.id, options: { text: "tell me about owls" } });
    await fake.waitUntil(() => /· demo\*\*/.test(shown(fake.originalOf(interactionId))), 10_000, "the status in the command's response");
    const status = fake.originalOf(interactionId)!;
    await fake.waitUntil(() => fake.messages(fake.channel.id).find((m) => m.content === "Which kind of answer do you want?"), 10_000, "the question");
    first.child.kill("SIGKILL");
    await first.exited;

    const second = spawn(fake, dir);
    await second.ready;
    const question = fake.messages(fake.channel.id).filter((m) => m.content === "Which kind of answer do you want?").at(-1)!;
    fake.press({ user: fake.alice.id, messageId: question.id, label: "Short summary" });
    const review = await fake.waitUntil(() => fake.messages(fake.channel.id).find((m) => m.content.startsWith("Publish this draft?")), 20_000, "the review after the restart");
    fake.press({ user: fake.alice.id, messageId: review.id, label: "Approve" });
    await fake.waitUntil(() => shown(fake.message(status.id)).startsWith("**Done · demo**"), 20_000, "the first status message to end done");
    expect(fake.messages(fake.channel.id).filter((m) => /· demo\*\*/.test(shown(m))).map((m) => m.id)).toEqual([status.id]);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    expect(fake.violations).toEqual([]);
  }, 60_000);
});
