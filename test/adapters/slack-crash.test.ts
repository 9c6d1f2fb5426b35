import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeSlack, type FakeSlack } from "../fakes/slack/server.ts";
import { ALICE, buttonsOf, CHANNEL, shown } from "./slack-setup.ts";
import { spawnWorker, type Worker } from "./fixtures/spawn-worker.ts";
import { cleanupList } from "./telegram-setup.ts";

/**
 * A real process running chatflow on Slack is killed with SIGKILL in the instant its status
 * message was posted (Slack has the post, the process never heard back), and started again on
 * the same data: the engine finds the post again by its metadata (recall) and goes on updating
 * that same message. Nothing is posted twice.
 */
const worker = fileURLToPath(new URL("./fixtures/slack-worker.ts", import.meta.url));
const cleanup = cleanupList();
afterEach(() => cleanup.run());

function spawn(fake: FakeSlack, dir: string): Worker {
  return spawnWorker(worker, { CRASH_DIR: dir, SLACK_BOT_TOKEN: fake.botToken, SLACK_APP_TOKEN: fake.appToken, SLACK_API_URL: fake.apiUrl }, (fn) => cleanup.add(fn));
}

describe("slack: SIGKILL mid-task", () => {
  it("after a kill between the status post and its record, the same status message is updated again", async () => {
    const fake = await startFakeSlack();
    cleanup.add(() => fake.close());
    const dir = await mkdtemp(path.join(tmpdir(), "chatflow-slack-crash-"));
    cleanup.add(() => rm(dir, { recursive: true, force: true }));

    const first = spawn(fake, dir);
    // Kill the process the moment Slack took its status post, before the answer reaches it.
    const push = fake.calls.push.bind(fake.calls);
    fake.calls.push = (...calls) => {
      for (const call of calls) {
        if (call.method === "chat.postMessage" && /· demo/.test(JSON.stringify(call.params.blocks ?? "")) && first.child.exitCode === null) first.child.kill("SIGKILL");
      }
      return push(...calls);
    };
    await first.ready;
    await fake.waitForConnection();
    const { ts: thread } = fake.mention({ channel: CHANNEL, user: ALICE, text: `<@${fake.bot.userId}> a short summary of owls` });
    await first.exited;
    const statuses = () => fake.botMessages(CHANNEL, { threadTs: thread }).filter((m) => /· demo\*/.test(shown(m)));
    const status = await fake.waitUntil(() => statuses()[0], 5000, "the status post the process never heard back about");

    const second = spawn(fake, dir);
    await second.ready;
    const review = await fake.waitUntil(() => fake.botMessages(CHANNEL, { threadTs: thread }).find((m) => shown(m).startsWith("Publish this draft?") && buttonsOf(m).includes("Approve")), 20_000, "the review after the restart");
    fake.press({ channel: CHANNEL, ts: review.ts, label: "Approve", user: ALICE });
    await fake.waitUntil(() => shown(fake.message(CHANNEL, status.ts)).startsWith("*Done · demo*"), 20_000, "the first status message to end done");
    expect(statuses().map((m) => m.ts)).toEqual([status.ts]);
    // It was found again by its metadata, in the thread.
    expect(fake.callsOf("conversations.replies").some((c) => c.params.ts === thread && String(c.params.include_all_metadata) === "true")).toBe(true);
    expect(fake.message(CHANNEL, status.ts)!.edits).toBeGreaterThan(0);
    expect(fake.botMessages(CHANNEL, { threadTs: thread }).filter((m) => shown(m).includes("the essentials in three points"))).toHaveLength(1);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    expect(fake.violations).toEqual([]);
  }, 60_000);
});
