import { INTENTS } from "./dispatches.ts";
import type { Gateway } from "./gateway.ts";
import { commandOptions, createInteraction, submittedComponents, type FakeInteraction } from "./interactions.ts";
import { walkComponents } from "./limits.ts";
import { snowflake, type FakeChannel, type FakeMessage, type FakeModal, type Json } from "./protocol.ts";
import type { Identity, Store } from "./store.ts";

/** What people do, delivered to the bot over the gateway as Discord delivers it. */

/** Ids of an interaction a person started: what to assert on, and where it went on the gateway. */
export interface Dispatched {
  interactionId: string;
  token: string;
  /** The gateway sequence number of the INTERACTION_CREATE. */
  seq: number;
  /** False when the client was away: it gets the dispatch when it resumes. */
  sent: boolean;
}

export interface SlashCommandOptions {
  /** The command's name (registered by the app, unless `unregistered`). */
  name: string;
  /** Who runs it (a user id; unknown ids become people). */
  user: string;
  /** Where: a guild channel id (default: the fake's #general)... */
  channel?: string;
  /** ...or the person's DM with the bot. */
  dm?: boolean;
  group?: string;
  subcommand?: string;
  /** Option values by name, typed as the registered command declares them. */
  options?: Record<string, unknown>;
  /** Send it even though the app never registered the command (Discord's client wouldn't). */
  unregistered?: boolean;
}

export interface PressOptions {
  user: string;
  /** The message with the button: by id... */
  messageId?: string;
  /** ...or the reply (`@original`) of this interaction. */
  original?: string;
  /** The button: by custom_id or by label. */
  customId?: string;
  label?: string;
}

export interface SubmitModalOptions {
  /** The modal: by the interaction it answered... */
  interaction?: string;
  /** ...or by its custom_id (the last one opened). */
  customId?: string;
  /** Who submits (default: the person the modal was shown to; nobody else can). */
  user?: string;
  /** Values by component custom_id (a string for text inputs, a list for selects). */
  values?: Record<string, string | string[]>;
}

export interface PeopleDeps {
  store: Store;
  identity: Identity;
  gateway: Gateway;
  defaultChannel: () => FakeChannel;
}

export class People {
  readonly #d: PeopleDeps;

  constructor(deps: PeopleDeps) {
    this.#d = deps;
  }

  #deliver(interaction: FakeInteraction): Dispatched {
    const { s, sent } = this.#d.gateway.dispatch("INTERACTION_CREATE", interaction.payload);
    return { interactionId: interaction.id, token: interaction.token, seq: s, sent };
  }

  #channel(o: { channel?: string; dm?: boolean; user: string }): FakeChannel {
    if (o.dm) return this.#d.store.dmChannel(o.user);
    const channel = o.channel !== undefined ? this.#d.store.channels.get(o.channel) : this.#d.defaultChannel();
    if (!channel) throw new Error(`The fake has no channel ${o.channel}.`);
    return channel;
  }

  slashCommand(o: SlashCommandOptions): Dispatched {
    const { store, identity } = this.#d;
    const channel = this.#channel(o);
    const guildCommands = channel.guildId ? (store.commands.guilds.get(channel.guildId) ?? []) : [];
    const guildCommand = guildCommands.find((c) => c.name === o.name && c.type === 1);
    const command = guildCommand ?? store.commands.global.find((c) => c.name === o.name && c.type === 1);
    if (!command && !o.unregistered) {
      const known = [...store.commands.global, ...guildCommands].map((c) => `/${String(c.name)}`).join(", ") || "none";
      throw new Error(`No slash command /${o.name} is registered here (registered: ${known}). Register it first, or pass unregistered: true.`);
    }
    const { options, resolved } = commandOptions(store, command, o);
    const data: Json = { id: command?.id ?? snowflake(), name: o.name, type: 1, ...(options.length > 0 ? { options } : {}), ...(resolved ? { resolved } : {}), ...(guildCommand ? { guild_id: channel.guildId } : {}) };
    return this.#deliver(createInteraction(store, identity, 2, { user: store.user(o.user), channel }, data, {}, o.name));
  }

  press(o: PressOptions): Dispatched & { messageId: string } {
    const { store, identity } = this.#d;
    const messageId = o.messageId ?? (o.original !== undefined ? store.interactions.get(o.original)?.originalId : undefined);
    const message = messageId !== undefined ? store.messages.get(messageId) : undefined;
    if (!message || message.deleted) throw new Error(`The fake has no message ${messageId ?? `answering interaction ${o.original}`} to press a button on.`);
    if (message.ephemeralTo !== undefined && message.ephemeralTo !== o.user) throw new Error(`Message ${message.id} is ephemeral: only ${message.ephemeralTo} sees it.`);
    const buttons = walkComponents(message.components).map((c) => c.component).filter((c) => c.type === 2);
    const button = buttons.find((b) => (o.customId !== undefined ? b.custom_id === o.customId : b.label === o.label));
    const listed = buttons.map((b) => `"${String(b.label)}" (${String(b.custom_id ?? b.url)})`).join(", ") || "none";
    if (!button) throw new Error(`Message ${message.id} has no button ${o.customId ?? o.label}; it has ${listed}.`);
    if (button.disabled === true) throw new Error(`The button ${String(button.custom_id)} is disabled: nobody can press it.`);
    if (button.style === 5 || button.style === 6) throw new Error(`The button "${String(button.label)}" is a link or premium button: pressing it sends no interaction.`);
    const channel = store.channels.get(message.channelId)!;
    const data = { custom_id: button.custom_id, component_type: 2, id: button.id };
    const interaction = createInteraction(store, identity, 3, { user: store.user(o.user), channel }, data, { message: store.apiMessage(message) });
    interaction.messageId = message.id;
    return { ...this.#deliver(interaction), messageId: message.id };
  }

  /** A person picks values in a select menu (INTERACTION_CREATE type 3 with `values`); string selects check the values against their options. */
  select(o: { user: string; messageId?: string; original?: string; customId: string; values: string[] }): Dispatched & { messageId: string } {
    const { store, identity } = this.#d;
    const messageId = o.messageId ?? (o.original !== undefined ? store.interactions.get(o.original)?.originalId : undefined);
    const message = messageId !== undefined ? store.messages.get(messageId) : undefined;
    if (!message || message.deleted) throw new Error(`The fake has no message ${messageId ?? `answering interaction ${o.original}`} with a select menu.`);
    const menu = walkComponents(message.components).map((c) => c.component).find((c) => c.custom_id === o.customId && [3, 5, 6, 7, 8].includes(Number(c.type)));
    if (!menu) throw new Error(`Message ${message.id} has no select menu ${o.customId}.`);
    const min = typeof menu.min_values === "number" ? menu.min_values : 1;
    const max = typeof menu.max_values === "number" ? menu.max_values : 1;
    if (o.values.length < min || o.values.length > max) throw new Error(`The select menu ${o.customId} takes ${min}–${max} values (Discord's client enforces it).`);
    const offered = Array.isArray(menu.options) ? (menu.options as Json[]).map((opt) => opt.value) : undefined;
    const unknown = offered ? o.values.filter((v) => !offered.includes(v)) : [];
    if (unknown.length > 0) throw new Error(`The select menu ${o.customId} offers no ${unknown.join(", ")}.`);
    const data = { custom_id: o.customId, component_type: menu.type, values: o.values, id: menu.id };
    const interaction = createInteraction(store, identity, 3, { user: store.user(o.user), channel: store.channels.get(message.channelId)! }, data, { message: store.apiMessage(message) });
    interaction.messageId = message.id;
    return { ...this.#deliver(interaction), messageId: message.id };
  }

  /** The modal a submission is for (by interaction, or the last opened with a custom_id). */
  modalOf(o: SubmitModalOptions): FakeModal {
    const modals = this.#d.store.modals;
    const modal = o.interaction !== undefined ? modals.find((m) => m.interactionId === o.interaction) : [...modals].reverse().find((m) => m.customId === o.customId);
    if (!modal) throw new Error(`No modal was opened ${o.interaction !== undefined ? `for interaction ${o.interaction}` : `with custom_id ${o.customId}`} (opened: ${modals.map((m) => m.customId).join(", ") || "none"}).`);
    return modal;
  }

  submitModal(o: SubmitModalOptions): Dispatched {
    const { store, identity } = this.#d;
    const modal = this.modalOf(o);
    const user = o.user ?? modal.userId;
    if (user !== modal.userId) throw new Error(`The modal ${modal.customId} was shown to ${modal.userId}, not ${user}.`);
    const data = { custom_id: modal.customId, components: submittedComponents(modal, o.values ?? {}) };
    const message = modal.messageId !== undefined ? store.messages.get(modal.messageId) : undefined;
    const interaction = createInteraction(store, identity, 5, { user: store.user(user), channel: store.channels.get(modal.channelId)! }, data, message ? { message: store.apiMessage(message) } : {});
    if (message) interaction.messageId = message.id;
    modal.submissions.push(interaction.id);
    return this.#deliver(interaction);
  }

  /**
   * A person's message: stored, and MESSAGE_CREATE sent if the bot's intents ask for it
   * (DirectMessages in DMs, GuildMessages in guilds; without MessageContent a guild message
   * that doesn't mention the bot arrives with empty content, as on Discord).
   */
  userMessage(o: { user: string; content: string; channel?: string; dm?: boolean }): { messageId: string; channelId: string; delivered: boolean; seq?: number } {
    const { store, gateway, identity } = this.#d;
    const channel = this.#channel(o);
    const author = store.user(o.user);
    const message: FakeMessage = store.addMessage({ channelId: channel.id, ...(channel.guildId ? { guildId: channel.guildId } : {}), author, content: o.content, embeds: [], components: [], flags: 0, type: 0 });
    const intents = gateway.session?.intents ?? 0;
    const wanted = channel.guildId ? INTENTS.GuildMessages : INTENTS.DirectMessages;
    if (!gateway.session || (intents & wanted) === 0) return { messageId: message.id, channelId: channel.id, delivered: false };
    const mentionsBot = o.content.includes(`<@${identity.bot.id}>`);
    const payload = store.apiMessage(message, { gateway: true });
    // Discord's MESSAGE_CREATE carries the channel's type; discord.js needs it to build an uncached DM channel.
    payload.channel_type = channel.type;
    if (mentionsBot) payload.mentions = [store.apiUser(identity.bot)];
    if (channel.guildId && (intents & INTENTS.MessageContent) === 0 && !mentionsBot) payload.content = "";
    const { s } = gateway.dispatch("MESSAGE_CREATE", payload);
    return { messageId: message.id, channelId: channel.id, delivered: true, seq: s };
  }

  /** An application command interaction with neither `member` nor `user` (discord.js 14.28 throws inside its gateway handler). */
  interactionWithoutUser(o: { name: string; channel?: string }): Dispatched {
    const { store, identity } = this.#d;
    const interaction = createInteraction(store, identity, 2, { user: store.user("1300000000000000998", "ghost"), channel: this.#channel({ user: "", ...(o.channel ? { channel: o.channel } : {}) }) }, { id: snowflake(), name: o.name, type: 1 }, {}, o.name);
    delete interaction.payload.member;
    delete interaction.payload.user;
    return this.#deliver(interaction);
  }
}
