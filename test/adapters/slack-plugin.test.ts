import { App } from "@slack/bolt";
import { afterEach, describe, expect, it } from "vitest";
import { createSlackAdapter } from "../../adapters/slack/index.ts";
import { createBot } from "../../src/app.ts";
import { silentLogger } from "../../src/logger.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import { startFakeSlack } from "../fakes/slack/server.ts";
import { ALICE, ALICE_DM, buttonsOf, CHANNEL, FAST_PACING, shown } from "./slack-setup.ts";
import { cleanupList } from "./telegram-setup.ts";

/**
 * chatflow as a plugin in a Bolt app someone already runs: their listeners keep answering what
 * is theirs; chatflow takes its slash commands, its buttons and modal, and threads it started.
 */
const cleanup = cleanupList();
afterEach(() => cleanup.run());

describe("slack adapter as a plugin in an existing Bolt app", () => {
  it("both answer: their /weather and their mention listener; chatflow's /demo in a thread of its own, its buttons", async () => {
    const fake = await startFakeSlack();
    cleanup.add(() => fake.close());
    const theirs = new App({ token: fake.botToken, appToken: fake.appToken, socketMode: true, clientOptions: { slackApiUrl: fake.apiUrl }, logLevel: "error" as never, logger: { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => "error" as never, setName() {} } });
    theirs.command("/weather", async ({ ack }) => ack("Sunny."));
    theirs.event("app_mention", async ({ event, say }) => void (await say({ text: `hello <@${event.user}>`, thread_ts: event.ts })));
    const slack = createSlackAdapter({ app: theirs, pacing: FAST_PACING, editIntervalMs: 50, logger: silentLogger() });
    const chatflow = await createBot({ config: { workflows: { demo: { stepDelayMs: 5 } } }, store: createMemoryStore(), adapters: [slack], logger: silentLogger() });
    await chatflow.start();
    cleanup.add(() => chatflow.stop());
    await theirs.start();
    cleanup.add(() => theirs.stop());
    await fake.waitForConnection();

    const weather = fake.slashCommand({ command: "/weather", text: "", user: ALICE, channel: CHANNEL });
    expect((await fake.waitForAck(weather.envelopeId)).payload).toMatchObject({ text: "Sunny." });
    const { ts } = fake.mention({ channel: CHANNEL, user: ALICE, text: `<@${fake.bot.userId}> hi` });
    await fake.waitUntil(() => fake.botMessages(CHANNEL, { threadTs: ts }).some((m) => m.text === `hello <@${ALICE}>`), 5000, "their mention answer");

    fake.slashCommand({ command: "/demo", text: "tell me about owls", user: ALICE, channel: CHANNEL });
    const root = await fake.waitUntil(() => fake.botMessages(CHANNEL).find((m) => shown(m) === "Request: /demo tell me about owls"), 5000, "chatflow's thread");
    const question = await fake.waitUntil(() => fake.botMessages(CHANNEL, { threadTs: root.ts }).find((m) => shown(m) === "Which kind of answer do you want?"), 5000, "chatflow's question");
    fake.press({ channel: CHANNEL, ts: question.ts, label: "Short summary", user: ALICE });
    await fake.waitUntil(() => fake.botMessages(CHANNEL, { threadTs: root.ts }).some((m) => shown(m).startsWith("Publish this draft?") && buttonsOf(m).includes("Approve")), 5000, "chatflow's review");

    // chatflow did not answer their mention, and they did not see chatflow's thread.
    expect(fake.botMessages(CHANNEL, { threadTs: ts }).map((m) => m.text)).toEqual([`hello <@${ALICE}>`]);
    expect((await chatflow.store.listTasks()).items).toHaveLength(1);
    // Stopping chatflow leaves their app running.
    await chatflow.stop();
    const again = fake.slashCommand({ command: "/weather", text: "", user: ALICE, channel: ALICE_DM });
    expect((await fake.waitForAck(again.envelopeId)).payload).toMatchObject({ text: "Sunny." });
    expect(fake.violations).toEqual([]);
  });
});
