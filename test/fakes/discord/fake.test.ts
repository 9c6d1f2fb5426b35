import {
  ActionRowBuilder, ButtonBuilder, ButtonStyle, Client, DiscordAPIError, Events, GatewayIntentBits, LabelBuilder, MessageFlags, ModalBuilder,
  SlashCommandBuilder, StringSelectMenuBuilder, TextInputBuilder, TextInputStyle, type Interaction, type TextChannel,
} from "discord.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ProcessErrors } from "./process-errors.ts";
import { startFakeDiscord, type FakeDiscord } from "./server.ts";

// Real discord.js 14.28 (Client, @discordjs/rest, @discordjs/ws) against the fake: login, commands,
// interactions and their windows, rate limits, and the gateway's resume.

const CALLBACK = "POST /interactions/:id/:token/callback";
const ORIGINAL = "PATCH /webhooks/:app/:token/messages/@original";
const FOLLOW_UP = "POST /webhooks/:app/:token";

describe("real discord.js 14.28 against the fake", () => {
  let fake: FakeDiscord;
  let client: Client;
  const processErrors = new ProcessErrors();
  /** What the app does with the next interactions (set per test). */
  let handler: ((interaction: Interaction) => Promise<void>) | undefined;
  const outcomes: Array<{ id: string; error?: unknown }> = [];
  const outcome = (id: string) => fake.waitUntil(() => outcomes.find((o) => o.id === id), 5000, `the app's handling of interaction ${id}`);

  beforeAll(async () => {
    processErrors.install();
    fake = await startFakeDiscord();
    client = new Client({ intents: [GatewayIntentBits.Guilds, GatewayIntentBits.DirectMessages], rest: { api: fake.apiUrl } });
    client.on(Events.InteractionCreate, (interaction) => {
      handler?.(interaction).then(
        () => void outcomes.push({ id: interaction.id }),
        (error: unknown) => void outcomes.push({ id: interaction.id, error }),
      );
    });
    const ready = new Promise((resolve) => client.once(Events.ClientReady, resolve));
    await client.login(fake.token);
    await ready;
  });

  afterEach(() => {
    processErrors.assertNone();
    expect(fake.violations.splice(0)).toEqual([]);
  });

  afterAll(async () => {
    await client?.destroy();
    await fake?.close();
    processErrors.uninstall();
  });

  it("logs in: GET /gateway/bot, IDENTIFY with its intents, READY and GUILD_CREATE; the guild and #general are cached", () => {
    expect(client.user?.id).toBe(fake.bot.id);
    expect(fake.intents).toBe(GatewayIntentBits.Guilds | GatewayIntentBits.DirectMessages);
    expect(fake.callsOf("GET /gateway/bot")).toMatchObject([{ auth: "bot", status: 200 }]);
    expect(fake.connections).toMatchObject([{ path: "/", query: { v: "10", encoding: "json" }, did: "identify" }]);
    expect(client.guilds.cache.get(fake.guild.id)?.name).toBe("chatflow test");
    expect(client.channels.cache.get(fake.channel.id)?.isTextBased()).toBe(true);
  });

  it("bulk-overwrites global and guild commands (ids kept for the same name)", async () => {
    const deploy = new SlashCommandBuilder().setName("deploy").setDescription("Deploy something").addStringOption((o) => o.setName("target").setDescription("Where").setRequired(true));
    const schedule = new SlashCommandBuilder().setName("schedule").setDescription("Schedules").addSubcommand((s) => s.setName("add").setDescription("Add one").addStringOption((o) => o.setName("cron").setDescription("When").setRequired(true)));
    await client.application!.commands.set([deploy.toJSON(), schedule.toJSON()]);
    const firstIds = fake.commands.global.map((c) => c.id);
    await client.application!.commands.set([deploy.toJSON(), schedule.toJSON()]);
    expect(fake.commands.global.map((c) => [c.name, c.id])).toEqual([["deploy", firstIds[0]], ["schedule", firstIds[1]]]);
    await client.application!.commands.set([new SlashCommandBuilder().setName("guild-only").setDescription("Here only").toJSON()], fake.guild.id);
    expect(fake.commands.guilds.get(fake.guild.id)?.map((c) => c.name)).toEqual(["guild-only"]);
    expect(fake.callsOf("PUT /applications/:app/commands")).toHaveLength(2);
  });

  it("a slash command: deferReply → editReply with buttons → followUp ephemeral", async () => {
    handler = async (i) => {
      if (!i.isChatInputCommand()) return;
      await i.deferReply();
      const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
        new ButtonBuilder().setCustomId("approve").setLabel("Approve").setStyle(ButtonStyle.Success),
        new ButtonBuilder().setCustomId("edit").setLabel("Edit").setStyle(ButtonStyle.Secondary),
      );
      await i.editReply({ content: `Deploying ${i.options.getString("target", true)}…`, components: [row] });
      await i.followUp({ content: "Only you see this.", flags: MessageFlags.Ephemeral });
    };
    const { interactionId } = fake.slashCommand({ name: "deploy", user: fake.alice.id, options: { target: "prod" } });
    expect(await outcome(interactionId)).toEqual({ id: interactionId });
    expect(fake.callbacks(interactionId)).toMatchObject([{ type: 5, status: 204 }]);
    expect(fake.callsOf(CALLBACK).at(-1)).toMatchObject({ auth: "none", query: { with_response: "false" } });
    expect(fake.callsOf(ORIGINAL).at(-1)).toMatchObject({ auth: "none", path: expect.stringContaining("/messages/@original") });
    expect(fake.callsOf(FOLLOW_UP).at(-1)).toMatchObject({ query: { wait: "true" }, body: { flags: 64 } });
    const reply = fake.originalOf(interactionId)!;
    expect(reply).toMatchObject({ content: "Deploying prod…", flags: 0, edits: 1, type: 20, channelId: fake.channel.id });
    expect(reply.components[0]).toMatchObject({ type: 1, id: 1, components: [{ custom_id: "approve", id: 2 }, { custom_id: "edit", id: 3 }] });
    expect(fake.ephemerals(fake.alice.id).map((m) => m.content)).toContain("Only you see this.");
    expect(fake.messages(fake.channel.id).map((m) => m.content)).not.toContain("Only you see this.");
  });

  it("a subcommand in a DM: /schedule add cron:… (the DM channel isn't cached without Partials.Channel; channelId is set)", async () => {
    let seen: unknown[] = [];
    handler = async (i) => {
      if (!i.isChatInputCommand()) return;
      seen = [i.options.getSubcommand(), i.options.getString("cron"), i.channelId, i.channel, i.inGuild(), i.user.id];
      const response = await i.reply({ content: "Scheduled.", withResponse: true });
      seen.push(response.resource?.message?.content);
    };
    const { interactionId } = fake.slashCommand({ name: "schedule", subcommand: "add", options: { cron: "0 9 * * 1" }, user: fake.bob.id, dm: true });
    await outcome(interactionId);
    expect(seen).toEqual(["add", "0 9 * * 1", fake.dmChannel(fake.bob.id).id, null, false, fake.bob.id, "Scheduled."]);
    expect(fake.callbacks(interactionId)).toMatchObject([{ type: 4, status: 200 }]);
    expect(fake.originalOf(interactionId)).toMatchObject({ content: "Scheduled.", channelId: fake.dmChannel(fake.bob.id).id });
  });

  it("button presses: deferUpdate → editReply, and update()", async () => {
    handler = async (i) => {
      if (!i.isChatInputCommand()) return;
      await i.reply({ content: "Ready?", components: [new ActionRowBuilder<ButtonBuilder>().addComponents(new ButtonBuilder().setCustomId("go").setLabel("Go").setStyle(ButtonStyle.Primary), new ButtonBuilder().setCustomId("stop").setLabel("Stop").setStyle(ButtonStyle.Danger))] });
    };
    const command = fake.slashCommand({ name: "deploy", user: fake.alice.id, options: { target: "x" } });
    await outcome(command.interactionId);
    handler = async (i) => {
      if (!i.isButton()) return;
      if (i.customId === "go") {
        await i.deferUpdate();
        await i.editReply({ content: "Going.", components: [] });
      } else await i.update({ content: "Stopped.", components: [] });
    };
    const go = fake.press({ original: command.interactionId, label: "Go", user: fake.alice.id });
    await outcome(go.interactionId);
    expect(fake.message(go.messageId)).toMatchObject({ content: "Going.", components: [], edits: 1 });
    expect(fake.callbacks(go.interactionId)).toMatchObject([{ type: 6, status: 204 }]);
    const again = fake.slashCommand({ name: "deploy", user: fake.alice.id, options: { target: "y" } });
    handler = async (i) => {
      if (i.isChatInputCommand()) await i.reply({ content: "Ready?", components: [new ActionRowBuilder<ButtonBuilder>().addComponents(new ButtonBuilder().setCustomId("stop").setLabel("Stop").setStyle(ButtonStyle.Danger))] });
      else if (i.isButton()) await i.update({ content: "Stopped.", components: [] });
    };
    await outcome(again.interactionId);
    const stop = fake.press({ original: again.interactionId, customId: "stop", user: fake.alice.id });
    await outcome(stop.interactionId);
    expect(fake.message(stop.messageId)).toMatchObject({ content: "Stopped.", components: [] });
    expect(fake.callbacks(stop.interactionId)).toMatchObject([{ type: 7, status: 204 }]);
  });

  it("a select menu: the values picked reach the app", async () => {
    let picked: string[] = [];
    handler = async (i) => {
      if (i.isChatInputCommand()) {
        const menu = new StringSelectMenuBuilder().setCustomId("env").setMaxValues(2).addOptions({ label: "Staging", value: "staging" }, { label: "Production", value: "prod" });
        await i.reply({ content: "Where?", components: [new ActionRowBuilder<StringSelectMenuBuilder>().addComponents(menu)] });
      } else if (i.isStringSelectMenu()) {
        picked = i.values;
        await i.update({ content: `Deploying to ${i.values.join(" and ")}.`, components: [] });
      }
    };
    const command = fake.slashCommand({ name: "deploy", user: fake.alice.id, options: { target: "?" } });
    await outcome(command.interactionId);
    expect(() => fake.select({ original: command.interactionId, customId: "env", values: ["qa"], user: fake.alice.id })).toThrow(/offers no qa/);
    const choice = fake.select({ original: command.interactionId, customId: "env", values: ["staging", "prod"], user: fake.alice.id });
    await outcome(choice.interactionId);
    expect(picked).toEqual(["staging", "prod"]);
    expect(fake.message(choice.messageId)?.content).toBe("Deploying to staging and prod.");
  });

  it("showModal (Label components, and a text input given bare) → submit → fields.getTextInputValue", async () => {
    const values: string[] = [];
    handler = async (i) => {
      if (i.isChatInputCommand()) {
        const modal = new ModalBuilder().setCustomId("edit_task").setTitle("Edit the task")
          .addLabelComponents(new LabelBuilder().setLabel("Reason").setTextInputComponent(new TextInputBuilder().setCustomId("reason").setStyle(TextInputStyle.Paragraph).setMaxLength(200)))
          .addComponents(new TextInputBuilder().setCustomId("note").setLabel("Note").setStyle(TextInputStyle.Short).setRequired(false));
        await i.showModal(modal);
      } else if (i.isModalSubmit()) {
        values.push(i.customId, i.fields.getTextInputValue("reason"), i.fields.getTextInputValue("note"));
        await i.reply({ content: "Saved.", flags: MessageFlags.Ephemeral });
      }
    };
    const command = fake.slashCommand({ name: "deploy", user: fake.bob.id, options: { target: "z" } });
    await outcome(command.interactionId);
    const modal = fake.modals.at(-1)!;
    expect(modal).toMatchObject({ interactionId: command.interactionId, userId: fake.bob.id, customId: "edit_task", title: "Edit the task" });
    // A text input given bare goes as a legacy action row; a LabelBuilder as a Label (type 18).
    expect(modal.components).toMatchObject([{ type: 18, label: "Reason", component: { type: 4, custom_id: "reason", max_length: 200 } }, { type: 1, components: [{ type: 4, custom_id: "note", label: "Note" }] }]);
    expect(() => fake.submitModal({ customId: "edit_task", values: { reason: "r".repeat(201) } })).toThrow(/takes 0–200 characters/);
    const submitted = fake.submitModal({ customId: "edit_task", values: { reason: "It was wrong." } });
    await outcome(submitted.interactionId);
    expect(values).toEqual(["edit_task", "It was wrong.", ""]);
    expect(fake.interaction(submitted.interactionId)?.payload.data).toMatchObject({ components: [{ type: 18, component: { type: 4, custom_id: "reason", value: "It was wrong." } }, { type: 1, components: [{ type: 4, custom_id: "note", value: "" }] }] });
    expect(fake.ephemerals(fake.bob.id).map((m) => m.content)).toContain("Saved.");
  });

  it("a callback after the 3 s window (shortened here) fails with 10062 Unknown interaction", async () => {
    fake.options.interactionDeadlineMs = 150;
    handler = async (i) => {
      await fake.waitUntil(() => Date.now() - fake.interaction(i.id)!.createdAt > 150, 2000, "the deadline to pass");
      if (i.isChatInputCommand()) await i.deferReply();
    };
    const { interactionId } = fake.slashCommand({ name: "deploy", user: fake.alice.id, options: { target: "slow" } });
    const { error } = await outcome(interactionId);
    fake.options.interactionDeadlineMs = 3000;
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect(error).toMatchObject({ code: 10062, status: 404, message: "Unknown interaction" });
    expect(fake.violations.splice(0)).toEqual([expect.stringMatching(new RegExp(`^interaction ${interactionId}: callback type 5 \\d+ ms after the person acted \\(the deadline is 150 ms\\) → 10062$`))]);
  });

  it("an expired interaction token (15 min, shortened here) fails editReply with 50027; the bot token stays", async () => {
    fake.options.tokenLifetimeMs = 200;
    handler = async (i) => {
      if (!i.isChatInputCommand()) return;
      await i.deferReply();
      await fake.waitUntil(() => Date.now() - fake.interaction(i.id)!.createdAt > 200, 2000, "the token to expire");
      await i.editReply("Done, much later.");
    };
    const { interactionId } = fake.slashCommand({ name: "deploy", user: fake.alice.id, options: { target: "long" } });
    const { error } = await outcome(interactionId);
    fake.options.tokenLifetimeMs = 15 * 60_000;
    expect(error).toMatchObject({ code: 50027, status: 401, message: "Invalid Webhook Token" });
    expect(client.token).toBe(fake.token);
    await (client.channels.cache.get(fake.channel.id) as TextChannel).send("Done (in the channel instead).");
    expect(fake.messages(fake.channel.id).at(-1)).toMatchObject({ content: "Done (in the channel instead).", author: { id: fake.bot.id } });
  });

  it("@discordjs/rest waits for Retry-After on a 429 and retries a 500 by itself; it paces by the bucket headers", async () => {
    const channel = client.channels.cache.get(fake.channel.id) as TextChannel;
    fake.fail({ route: "POST /channels/:channel/messages", kind: "ratelimited", retryAfter: 0.2 });
    fake.fail({ route: "POST /channels/:channel/messages", kind: "server_error" });
    await channel.send("after a 429 and a 500");
    const calls = fake.callsOf("POST /channels/:channel/messages", { all: true }).slice(-3);
    expect(calls.map((c) => c.status)).toEqual([429, 500, 200]);
    // The bucket is spent (X-RateLimit-Remaining 0): @discordjs/rest waits its X-RateLimit-Reset-After (= retry_after).
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(190);
    const limited = fake.addChannel("paced");
    await fake.waitUntil(() => client.channels.cache.get(limited.id), 2000, "CHANNEL_CREATE in the cache");
    fake.rateLimit("POST /channels/:channel/messages", { limit: 2, perMs: 400 });
    const before = fake.rateLimitedCalls.length;
    await Promise.all([1, 2, 3, 4, 5].map((n) => (client.channels.cache.get(limited.id) as TextChannel).send(`paced ${n}`)));
    fake.rateLimit("POST /channels/:channel/messages", undefined);
    expect(fake.rateLimitedCalls.length).toBe(before);
    expect(fake.messages(limited.id).map((m) => m.content)).toEqual(["paced 1", "paced 2", "paced 3", "paced 4", "paced 5"]);
  });

  it("sends a DM (GET /users/:id, POST /users/@me/channels, then the message); its own message comes back as MESSAGE_CREATE", async () => {
    const own: string[] = [];
    const onMessage = (m: { author: { id: string }; content: string }) => void (m.author.id === fake.bot.id && own.push(m.content));
    client.on(Events.MessageCreate, onMessage);
    await (await client.users.fetch(fake.bob.id)).send("A DM from the bot.");
    expect(fake.messages(fake.dmChannel(fake.bob.id).id).at(-1)).toMatchObject({ content: "A DM from the bot.", author: { id: fake.bot.id } });
    await fake.waitUntil(() => own.includes("A DM from the bot."), 2000, "the echo");
    client.off(Events.MessageCreate, onMessage);
  });

  it("people's DMs arrive as messageCreate only in DM channels discord.js has cached (else it needs Partials.Channel)", async () => {
    const seen: string[] = [];
    const onMessage = (m: { author: { id: string }; content: string }) => void seen.push(`${m.author.id}: ${m.content}`);
    client.on(Events.MessageCreate, onMessage);
    const carol = fake.addUser("carol");
    expect(fake.userMessage({ user: carol.id, content: "hi from carol", dm: true })).toMatchObject({ delivered: true });
    expect(fake.userMessage({ user: fake.bob.id, content: "hi from bob", dm: true })).toMatchObject({ delivered: true });
    // Dispatches are handled in order: once bob's arrived, carol's was dropped (her DM channel isn't cached).
    await fake.waitUntil(() => seen.includes(`${fake.bob.id}: hi from bob`), 2000, "bob's DM");
    expect(seen).toEqual([`${fake.bob.id}: hi from bob`]);
    // No GuildMessages intent: a guild message isn't sent at all.
    expect(fake.userMessage({ user: fake.alice.id, content: "in #general" })).toMatchObject({ delivered: false });
    client.off(Events.MessageCreate, onMessage);
  });

  it("a gateway drop: discord.js resumes on resume_gateway_url and gets what was dispatched meanwhile", async () => {
    handler = async (i) => {
      if (i.isChatInputCommand()) await i.reply("Still here.");
    };
    fake.dropGateway();
    await fake.waitUntil(() => !fake.gatewayLive, 2000, "the drop");
    const missed = fake.slashCommand({ name: "deploy", user: fake.alice.id, options: { target: "during the drop" } });
    expect(missed.sent).toBe(false);
    await fake.waitForGateway({ resumes: 1 });
    await outcome(missed.interactionId);
    expect(fake.originalOf(missed.interactionId)?.content).toBe("Still here.");
    expect(fake.connections.at(-1)).toMatchObject({ path: "/resume", did: "resume" });
    expect(fake.identifies).toBe(1);
  });

  it("op 7 RECONNECT → resume; op 9 INVALID_SESSION (not resumable) → a fresh IDENTIFY", async () => {
    const resumed = new Promise((resolve) => client.once(Events.ShardResume, resolve));
    fake.requestReconnect();
    await fake.waitForGateway({ resumes: 2 });
    // Let discord.js handle RESUMED first: an op 9 right behind it races its RESUMED handler (sessionInfo null).
    await resumed;
    fake.invalidateSession(false);
    await fake.waitForGateway({ identifies: 2 });
    await fake.waitUntil(() => client.isReady() && client.guilds.cache.has(fake.guild.id), 5000, "the client ready again");
    handler = async (i) => {
      if (i.isChatInputCommand()) await i.reply("After a new session.");
    };
    const { interactionId } = fake.slashCommand({ name: "deploy", user: fake.alice.id, options: { target: "new session" } });
    await outcome(interactionId);
    expect(fake.originalOf(interactionId)?.content).toBe("After a new session.");
  });

  it("an interaction without member or user: discord.js throws in its gateway handler, outside the app's promises", async () => {
    handler = undefined;
    fake.interactionWithoutUser({ name: "deploy" });
    const { error } = await processErrors.take((e) => e instanceof TypeError && /reading 'user'/.test(e.message));
    expect((error as Error).stack).toContain("BaseInteraction");
  });
});
