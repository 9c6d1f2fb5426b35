import { afterEach, describe, expect, it } from "vitest";
import { CHANNEL, ALICE, shown, startSlackBot } from "./slack-setup.ts";
import { cleanupList } from "./telegram-setup.ts";

const cleanup = cleanupList();
afterEach(() => cleanup.run());

describe("slack: scheduled posts", () => {
  it("posts on schedule to a channel, escaped and with its key as metadata, and pauses the schedule on not_in_channel", async () => {
    const t = await startSlackBot({ config: { scheduler: { maxFailures: 2 } } });
    cleanup.add(() => t.stop());
    const { fake } = t;
    // Made in the channel's thread by mentioning the bot; posted to the channel it was made in.
    const { ts: thread } = fake.mention({ channel: CHANNEL, user: ALICE, text: `<@${fake.bot.userId}> /schedule add "* * * * * *" Stand-up <!here> & coffee` });
    const confirmation = await t.botMessage((text) => text.startsWith("Scheduled "), { channel: CHANNEL, threadTs: thread });
    const id = /^Scheduled (\S+)/.exec(confirmation.text)![1]!;
    // What was typed comes back as text: `@here` without link_names pings nobody, `&` escaped.
    const post = await fake.waitUntil(() => fake.botMessages(CHANNEL, { threadTs: thread }).find((m) => shown(m) === "Stand-up @here &amp; coffee"), 5000, "the scheduled post");
    expect(JSON.stringify(post.blocks)).not.toContain("<!here>");
    expect(post.metadata).toMatchObject({ event_type: "chatflow_message", event_payload: { key: expect.stringMatching(new RegExp(`^sched:${id}:`)) } });

    fake.notInChannel.add(CHANNEL);
    const deadline = Date.now() + 8000;
    let schedule = await t.bot.store.getSchedule(id);
    while (schedule?.enabled && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      schedule = await t.bot.store.getSchedule(id);
    }
    expect(schedule).toMatchObject({ enabled: false, failures: 2 });
    expect(schedule?.pausedReason).toMatch(/not_in_channel/);
    expect(schedule?.pausedReason).not.toContain(fake.botToken);
  });
});
