import { expect } from "vitest";
import type { Action } from "../../src/model.ts";
import { startFakeDiscord } from "../fakes/discord/server.ts";
import { adapterContract } from "./contract.ts";
import { buttonsOf, discordAdapterFor, shown } from "./discord-setup.ts";

adapterContract("discord (discord.js against the fake Discord)", async () => {
  const fake = await startFakeDiscord();
  // Global commands: guild commands do not exist in a DM.
  const adapter = discordAdapterFor(fake, { guildId: undefined });
  const alice = fake.alice.id;
  const dm = fake.dmChannel(alice);
  const carol = fake.addUser("carol").id;
  const inDm = () => fake.messages(dm.id);
  const press = async (channelId: string, user: string, action: Action) => {
    const message = [...fake.messages(channelId)].reverse().find((m) => buttonsOf(m).includes(action.label));
    if (!message) throw new Error(`No message shows a button "${action.label}".`);
    const pressed = fake.press({ user, messageId: message.id, label: action.label });
    // A review's Edit opens a modal: the person corrects the draft there and submits it.
    if (action.role !== "edit") return;
    await fake.waitUntil(() => fake.modals.find((m) => m.interactionId === pressed.interactionId), 5000, "the Edit modal");
    fake.submitModal({ interaction: pressed.interactionId, values: { draft: "Corrected in the modal" } });
  };
  const mention = (text: string) => `<@${fake.bot.id}> ${text}`;
  return {
    adapter,
    address: { platform: "discord", channel: dm.id, user: alice, direct: true },
    deliverText: async (text) => void fake.userMessage({ user: alice, dm: true, content: text }),
    deliverCommand: async (name, args) => void fake.slashCommand({ name, user: alice, dm: true, ...(args ? { options: name === "history" ? { count: Number(args) } : { text: args } } : {}) }),
    pressAction: (action) => press(dm.id, alice, action),
    lastSent: async () => ({ text: shown(inDm().at(-1)), buttons: buttonsOf(inDm().at(-1)) }),
    transcript: async () => inDm().filter((m) => m.author.id === fake.bot.id).map((m) => shown(m)).join("\n"),
    privateNotices: async () => fake.ephemerals(alice).map((m) => m.content),
    shared: {
      users: [fake.bob.id, carol],
      address: (user) => ({ platform: "discord", channel: fake.channel.id, user }),
      deliverTextAs: async (user, text) => void fake.userMessage({ user, channel: fake.channel.id, content: mention(text) }),
      pressActionAs: (user, action) => press(fake.channel.id, user, action),
      transcript: async () => fake.messages(fake.channel.id).map((m) => shown(m)).join("\n"),
      privateNotices: async (user) => fake.ephemerals(user).map((m) => m.content),
    },
    async cleanup() {
      await fake.close();
      // Every call the adapter made conforms to Discord's spec and limits.
      expect(fake.violations).toEqual([]);
    },
  };
});
