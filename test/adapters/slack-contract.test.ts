import { expect } from "vitest";
import type { Action } from "../../src/model.ts";
import { startFakeSlack } from "../fakes/slack/server.ts";
import { adapterContract } from "./contract.ts";
import { ALICE, ALICE_DM, BOB, buttonsOf, CHANNEL, shown, slackAdapterFor } from "./slack-setup.ts";

/** A channel thread with two people in it, started by a mention. */
const CAROL = "U0CAROL";

adapterContract("slack (Bolt in Socket Mode against the fake Slack)", async () => {
  const fake = await startFakeSlack();
  const adapter = slackAdapterFor(fake);
  const dm = () => fake.botMessages(ALICE_DM);
  const press = async (channel: string, user: string, action: Action, threadTs?: string) => {
    const message = [...fake.botMessages(channel, threadTs ? { threadTs } : {})].reverse().find((m) => buttonsOf(m).includes(action.label));
    if (!message) throw new Error(`No message shows a button "${action.label}".`);
    const opened = fake.views.size;
    fake.press({ channel, ts: message.ts, label: action.label, user });
    // A review's Edit opens a modal: the person corrects the draft there and submits it.
    if (action.role !== "edit") return;
    const view = await fake.waitUntil(() => [...fake.views.values()][opened], 5000, "the Edit modal");
    fake.submitView({ viewId: view.id, user, values: { draft: "Corrected in the modal" } });
  };
  let thread: string | undefined;
  const connected = () => fake.waitForConnection();
  return {
    adapter,
    address: { platform: "slack", channel: ALICE_DM, user: ALICE, direct: true },
    deliverText: async (text) => {
      await connected();
      fake.userMessage({ channel: ALICE_DM, user: ALICE, text });
    },
    deliverCommand: async (name, args) => {
      await connected();
      fake.slashCommand({ command: "/chatflow", text: `${name} ${args}`, user: ALICE, channel: ALICE_DM });
    },
    pressAction: (action) => press(ALICE_DM, ALICE, action),
    lastSent: async () => ({ text: shown(dm().at(-1)), buttons: buttonsOf(dm().at(-1)) }),
    transcript: async () => dm().map((m) => shown(m)).join("\n"),
    privateNotices: async () => fake.ephemerals(ALICE).map((e) => e.text),
    shared: {
      users: [BOB, CAROL],
      address: (user) => ({ platform: "slack", channel: CHANNEL, thread: thread!, user }),
      async deliverTextAs(user, text) {
        await connected();
        // The first message mentions the bot and starts the thread; later ones reply in it.
        if (!thread) thread = fake.mention({ channel: CHANNEL, user, text: `<@${fake.bot.userId}> ${text}` }).ts;
        else fake.userMessage({ channel: CHANNEL, user, text: `<@${fake.bot.userId}> ${text}`, threadTs: thread });
      },
      pressActionAs: (user, action) => press(CHANNEL, user, action, thread),
      transcript: async () => fake.messages(CHANNEL, thread ? { threadTs: thread } : {}).map((m) => shown(m)).join("\n"),
      privateNotices: async (user) => fake.ephemerals(user).map((e) => e.text),
    },
    async cleanup() {
      await fake.close();
      // Every call the adapter made conforms to the Web API spec and Block Kit's limits.
      expect(fake.violations).toEqual([]);
    },
  };
});
