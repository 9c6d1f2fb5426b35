import { ActionRowBuilder, MessageFlags, ModalBuilder, TextInputBuilder, TextInputStyle, type ButtonInteraction, type ChatInputCommandInteraction, type Client, type Interaction, type Message, type ModalSubmitInteraction } from "discord.js";
import type { InboundHandler, NoticeOptions } from "../../src/port/index.ts";
import type { Host } from "../../src/port/index.ts";
import { Handoff } from "../../src/port/index.ts";
import type { Logger } from "../../src/logger.ts";
import type { Address, InboundCommand, InboundEvent } from "../../src/model.ts";
import type { ActionKeys } from "../../src/port/index.ts";
import { decodeAction, isActionId } from "../../src/port/index.ts";
import { argsOf, type ReceivedOption } from "./commands.ts";
import { customIdsOf, FORM_EXPIRED, type FormCheck } from "./forms.ts";
import type { Interactions } from "./interactions.ts";
import type { DiscordOutbound } from "./outbound.ts";
import { repliesPrivately, type PrivateReplies } from "./private-replies.ts";
import { ANSWER_ID, MODAL_PREFIX } from "./render.ts";

const EXPIRED = "This question has expired: its task no longer exists.";
/** Discord's limit on a paragraph input. */
const TEXT_INPUT_MAX = 4000;

export interface ReceiverOptions {
  outbound: DiscordOutbound;
  interactions: Interactions;
  keys: ActionKeys;
  /** Which private slash command (/help, /status…) the engine's replies answer. */
  replies: PrivateReplies;
  /** Whether a submitted form still has a task waiting for it. */
  forms: FormCheck;
  log: Logger;
  /** Plugin mode: unknown buttons and commands are the host's, never answered here. */
  plugin: boolean;
}

/**
 * discord.js interactions → the engine's events, each acknowledged within Discord's 3
 * seconds before the engine sees it: a slash command is deferred (its original response then
 * carries the engine's first message; ephemerally for the commands answered privately), a
 * button press gets a deferred update, a review's Edit and a free-text Answer open a modal
 * whose submission is the answer (or, when nobody waits for it any more, is told so privately).
 */
export class DiscordReceiver {
  readonly #o: ReceiverOptions;
  readonly #handoff: Handoff;
  #commands = new Set<string>();

  constructor(options: ReceiverOptions) {
    this.#o = options;
    this.#handoff = new Handoff(options.log);
  }

  /** Starts handing events to `handler`; `host`: the engine that started the adapter, if one did. */
  open(handler: InboundHandler, commandNames: readonly string[], host?: Host): void {
    this.#handoff.start(handler);
    this.#commands = new Set(commandNames);
    this.#o.forms.open(host);
  }

  close(): Promise<void> {
    return this.#handoff.close();
  }

  /** Listens on the client (chatflow's own, or the host's in plugin mode). */
  listen(client: Client): void {
    client.on("interactionCreate", (interaction) => void this.#route(interaction).catch((error: unknown) => this.#o.log.warn({ err: error }, "discord interaction failed")));
    client.on("messageCreate", (message) => void this.#message(message, client.user?.id).catch((error: unknown) => this.#o.log.warn({ err: error }, "discord message failed")));
  }

  /**
   * A message: in a DM with the bot, the conversation (Discord gives DMs' text without the
   * privileged Message Content intent); in a server channel, only one that mentions the bot
   * (the mention removed). `/name args` is a command. Bots, the bot itself and system messages are ignored.
   */
  async #message(message: Message, botId: string | undefined): Promise<void> {
    // Sharing a client (plugin mode), plain messages are the host's.
    if (!this.#handoff.open || !botId || this.#o.plugin || message.author.bot || message.system) return;
    const direct = !message.guildId;
    const mention = new RegExp(`<@!?${botId}>`, "g");
    if (!direct && !mention.test(message.content)) return;
    const text = message.content.replace(mention, " ").replace(/\s{2,}/g, " ").trim();
    const address: Address = { platform: "discord", channel: message.channelId, user: message.author.id, ...(direct ? { direct: true } : {}) };
    const command = /^\/([a-z0-9_-]{1,32})(?:\s+([\s\S]*))?$/i.exec(text);
    const event: InboundEvent = command
      ? { kind: "command", id: message.id, address, raw: message.toJSON(), platformMessageId: message.id, name: command[1]!.toLowerCase(), args: (command[2] ?? "").trim() }
      : { kind: "message", id: message.id, address, raw: message.toJSON(), platformMessageId: message.id, text };
    await this.#hand(event);
  }

  /** A private notice: an ephemeral reply (flag 64) to the event's interaction. */
  async notify(event: InboundEvent, text: string, _options: NoticeOptions = {}): Promise<boolean> {
    const interaction = this.#o.interactions.ofEvent(event.id);
    if (!interaction) return false;
    try {
      const command = this.#o.replies.of(event);
      await this.#o.outbound.ephemeral(interaction, text, command);
      // A public "thinking…" that no message will fill (a refused /cancel) would stay in the channel.
      if (!command && interaction.isChatInputCommand() && this.#o.interactions.dropDeferred(interaction)) await interaction.deleteReply().catch(() => undefined);
      return true;
    } catch (error) {
      this.#o.log.debug({ err: error }, "ephemeral reply failed; the engine replies in the channel");
      return false;
    }
  }

  async #route(interaction: Interaction): Promise<void> {
    if (!this.#handoff.open) return;
    if (interaction.isChatInputCommand()) return this.#command(interaction);
    if (interaction.isButton()) return this.#press(interaction);
    if (interaction.isModalSubmit()) return this.#submit(interaction);
  }

  async #command(interaction: ChatInputCommandInteraction): Promise<void> {
    if (!this.#commands.has(interaction.commandName)) {
      if (!this.#o.plugin) await interaction.reply({ content: `/${interaction.commandName} is not a chatflow command. Try /help.`, flags: MessageFlags.Ephemeral });
      return;
    }
    const options = (interaction.options.data ?? []) as unknown as ReceivedOption[];
    const args = argsOf(interaction.commandName, options);
    const answeredPrivately = repliesPrivately(interaction.commandName, args);
    // First, within 3 s: "thinking…" (the person's alone for /help, /status…). The engine's first message takes its place.
    await interaction.deferReply(answeredPrivately ? { flags: MessageFlags.Ephemeral } : {});
    const address = addressOf(interaction);
    const event: InboundCommand = { kind: "command", id: interaction.id, address, raw: interaction.toJSON(), name: interaction.commandName, args };
    this.#o.interactions.event(event.id, interaction);
    if (answeredPrivately) return void (await this.#o.replies.run({ event, interaction, answered: false }, () => this.#hand(event)));
    // Public: the next message to this person here fills the response (a started task's status).
    this.#o.interactions.deferred(address.channel, address.user, interaction);
    await this.#hand(event);
  }

  async #press(interaction: ButtonInteraction): Promise<void> {
    const id = interaction.customId;
    if (isAnswerId(id)) return void (await interaction.showModal(answerModal(id)));
    const modal = id.startsWith(MODAL_PREFIX);
    const payload = modal ? id.slice(MODAL_PREFIX.length) : id;
    if (!isActionId(payload) && !payload.startsWith("~")) {
      if (!this.#o.plugin) await interaction.reply({ content: EXPIRED, flags: MessageFlags.Ephemeral });
      return;
    }
    const actionId = this.#o.keys.decode(payload);
    if (actionId === undefined) return void (await interaction.reply({ content: EXPIRED, flags: MessageFlags.Ephemeral }));
    if (modal) {
      // Posted by this process, or else (another process, before a restart) as the engine has it.
      const draft = this.#o.outbound.reviews.get(interaction.message.id)?.draft ?? (await this.#o.forms.review(actionId, addressOf(interaction)))?.draft ?? "";
      return void (await interaction.showModal(editModal(payload, draft)));
    }
    // Within 3 s: the press is taken; the engine's answer edits the question.
    await interaction.deferUpdate();
    const event: InboundEvent = { kind: "action", id: interaction.id, address: addressOf(interaction), raw: interaction.toJSON(), actionId, platformMessageId: interaction.message.id };
    this.#o.interactions.event(event.id, interaction);
    await this.#hand(event);
  }

  async #submit(interaction: ModalSubmitInteraction): Promise<void> {
    const id = interaction.customId;
    if (!id.startsWith(MODAL_PREFIX)) return;
    const field = (name: string) => {
      try {
        return interaction.fields.getTextInputValue(name).trim();
      } catch {
        return "";
      }
    };
    const address = addressOf(interaction);
    const messageButtons = interaction.message ? customIdsOf(interaction.message.components.map((c) => c.toJSON())) : undefined;
    let event: InboundEvent;
    if (isAnswerId(id)) {
      const taskId = taskOfAnswer(id);
      // The form's custom_id is its button's, but for forms opened before it named the task.
      const button = taskId ? id : ANSWER_ID;
      if (await this.#o.forms.expired({ button, messageButtons, ...(taskId ? { taskId } : {}) })) return this.#expiredForm(interaction);
      event = { kind: "message", id: interaction.id, address, raw: interaction.toJSON(), text: field("answer") };
    } else {
      const payload = id.slice(`${MODAL_PREFIX}edit:`.length);
      const actionId = this.#o.keys.decode(payload);
      const taskId = (interaction.message ? this.#o.outbound.reviews.get(interaction.message.id)?.taskId : undefined) ?? (actionId !== undefined ? decodeAction(actionId)?.taskId : undefined);
      if (actionId === undefined || (await this.#o.forms.expired({ button: MODAL_PREFIX + payload, messageButtons, ...(taskId ? { taskId } : {}) }))) return this.#expiredForm(interaction);
      const feedback = field("feedback");
      event = { kind: "action", id: interaction.id, address, raw: interaction.toJSON(), actionId, text: field("draft"), ...(feedback ? { feedback } : {}) };
    }
    await interaction.deferUpdate();
    this.#o.interactions.event(event.id, interaction);
    await this.#hand(event);
  }

  /** A form nobody waits for: said to its sender alone, as the submission's response (within 3 s), and not handed over. */
  async #expiredForm(interaction: ModalSubmitInteraction): Promise<void> {
    await interaction.reply({ content: FORM_EXPIRED, flags: MessageFlags.Ephemeral });
  }

  #hand(event: InboundEvent): Promise<void> {
    return this.#handoff.hand(event);
  }

}

/** Where an interaction came from: its channel (a thread is a channel), its user, `direct` in DMs. */
function addressOf(interaction: ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction): Address {
  const address: Address = { platform: "discord", channel: interaction.channelId ?? "", user: interaction.user.id };
  if (!interaction.guildId) address.direct = true;
  return address;
}

/** A free-text question's Answer button, or the form it opened (both `modal:answer[:<task>]`). */
function isAnswerId(id: string): boolean {
  return id === ANSWER_ID || id.startsWith(`${ANSWER_ID}:`);
}

/** The task an Answer form belongs to. Forms opened before it carried one end in the question's message id (a snowflake): none. */
function taskOfAnswer(id: string): string | undefined {
  const rest = id.slice(ANSWER_ID.length + 1);
  return rest && !/^\d+$/.test(rest) ? rest : undefined;
}

/** The Answer form: its custom_id is the button's, so its submission names the same task. */
function answerModal(buttonId: string): ModalBuilder {
  const input = new TextInputBuilder().setCustomId("answer").setLabel("Your answer").setStyle(TextInputStyle.Paragraph).setMaxLength(TEXT_INPUT_MAX).setRequired(true);
  return new ModalBuilder().setCustomId(buttonId).setTitle("Answer").addComponents(new ActionRowBuilder<TextInputBuilder>().addComponents(input));
}

function editModal(payload: string, draft: string): ModalBuilder {
  const text = new TextInputBuilder().setCustomId("draft").setLabel("Corrected text").setStyle(TextInputStyle.Paragraph).setMaxLength(TEXT_INPUT_MAX).setRequired(true);
  if (draft) text.setValue(draft.slice(0, TEXT_INPUT_MAX));
  const feedback = new TextInputBuilder().setCustomId("feedback").setLabel("Feedback for the workflow").setStyle(TextInputStyle.Paragraph).setMaxLength(TEXT_INPUT_MAX).setRequired(false);
  return new ModalBuilder()
    .setCustomId(`${MODAL_PREFIX}edit:${payload}`)
    .setTitle("Edit the draft")
    .addComponents(new ActionRowBuilder<TextInputBuilder>().addComponents(text), new ActionRowBuilder<TextInputBuilder>().addComponents(feedback));
}
