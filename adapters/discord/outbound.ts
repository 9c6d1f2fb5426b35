import { createHash } from "node:crypto";
import { MessageFlags, Routes, type Client } from "discord.js";
import { NotFoundError } from "../../src/errors.ts";
import type { ActionKeys } from "../../src/port/index.ts";
import type { Address, OutboundMessage, SentMessage } from "../../src/model.ts";
import { isExpiredToken, toChatflowError } from "./errors.ts";
import type { Interactions, Replyable } from "./interactions.ts";
import type { PrivateCommand } from "./private-replies.ts";
import { renderEdit, renderMessage, type DiscordMessage } from "./render.ts";

/** How far back `recall` looks for a post, in messages (Discord's most per request). */
const RECALL_DEPTH = 100;

export interface OutboundOptions {
  client: Client;
  interactions: Interactions;
  keys: ActionKeys;
  /** The bot token, removed from error messages. */
  token: string;
  /** The bot's user id, once logged in: recall trusts only the bot's own posts. */
  botId: () => string | undefined;
}

/** A message's nonce for the engine's key (Discord takes 25 characters): the same key, the same nonce. */
export function nonceOf(key: string): string {
  return createHash("sha256").update(key).digest("base64url").slice(0, 25);
}

/**
 * Posts and edits: through the interaction while its token lives (the deferred slash
 * command's original response, follow-ups), else as channel messages (with a nonce Discord
 * enforces, so a repeated post returns the first), else in a DM when the channel is gone.
 */
export class DiscordOutbound {
  readonly #o: OutboundOptions;
  /** Reviews posted by this process, by message id: the Edit form starts from the draft, and knows its task. */
  readonly reviews = new Map<string, { draft: string; taskId?: string }>();

  constructor(options: OutboundOptions) {
    this.#o = options;
  }

  #encode = (actionId: string, prefix: string): string => prefix + this.#o.keys.encode(actionId);

  async send(address: Address, message: OutboundMessage): Promise<SentMessage> {
    const parts = renderMessage(message, this.#encode);
    const deferred = this.#o.interactions.takeDeferred(address.channel, address.user);
    let last = "";
    for (const [index, part] of parts.entries()) {
      const key = message.key && index === parts.length - 1 ? message.key : undefined;
      last = deferred ? await this.#viaInteraction(deferred, part, index === 0, address) : await this.#post(address, part, key, message.taskId !== undefined);
    }
    if (message.review) this.#remember(last, message.review.data, message.taskId);
    return { id: last };
  }

  /**
   * Edits a message: through its interaction while the token lives, else through the channel.
   * When neither works any more (the token expired on an interaction response, 50027; the
   * channel closed to the bot), the new state is posted anew (in the channel, or a DM) and its
   * id returned: the engine edits that one next. A message in a DM the adapter fell back to
   * has the id `<dm channel>/<message>`.
   */
  async edit(address: Address, messageId: string, message: OutboundMessage): Promise<void | SentMessage> {
    const match = /^(?:(\d+)\/)?(\d+)$/.exec(messageId);
    if (!match) throw new NotFoundError(`"${messageId}" is not a Discord message id.`);
    const channel = match[1] ?? address.channel;
    messageId = match[2]!;
    const part = renderEdit(message, this.#encode);
    const via = this.#o.interactions.editable(messageId);
    if (via) {
      try {
        await (via.original ? via.interaction.editReply(viaJs(part)) : via.interaction.webhook.editMessage(messageId, viaJs(part)));
        return;
      } catch (error) {
        if (!isExpiredToken(error)) throw toChatflowError(error, { action: "edit a message", channel: address.channel, token: this.#o.token });
        this.#o.interactions.expire(messageId);
      }
    }
    try {
      await this.#o.client.rest.patch(Routes.channelMessage(channel, messageId), { body: part });
    } catch (error) {
      // Not editable any more (an interaction response whose token expired, a channel closed to
      // the bot): post the state anew, where the person can still see it.
      const mapped = toChatflowError(error, { action: "edit a message", channel, token: this.#o.token });
      if (!via && !isInteractionResponseGone(error) && mapped.code !== "permission") throw mapped;
      return { id: await this.#post(address, part, undefined, true) };
    }
  }

  /**
   * A message only the person behind `interaction` sees: the answer of a private command (see
   * `answerPrivately`), else an ephemeral reply or follow-up (flag 64).
   */
  async ephemeral(interaction: Replyable, text: string, command?: PrivateCommand): Promise<void> {
    const part = renderMessage({ kind: "reply", text }, this.#encode)[0]!;
    if (command) return void (await this.#privately(command, viaJs(part)));
    const body = { content: part.content, flags: MessageFlags.Ephemeral as const, allowedMentions: { parse: [] } };
    if (interaction.deferred || interaction.replied) await interaction.followUp(body);
    else await interaction.reply(body);
  }

  /**
   * Answers a private slash command: the first part fills its original response (deferred
   * with flag 64, so it stays the person's alone), the next ones are ephemeral follow-ups.
   * Never in the channel.
   */
  async answerPrivately(command: PrivateCommand, message: OutboundMessage): Promise<SentMessage> {
    let last = "";
    for (const part of renderMessage(message, this.#encode)) last = await this.#privately(command, viaJs(part));
    return { id: last };
  }

  async #privately(command: PrivateCommand, body: ReturnType<typeof viaJs>): Promise<string> {
    const { interaction } = command;
    const first = !command.answered;
    command.answered = true;
    const sent = await this.#call("answer the command", interaction.channelId ?? undefined, () => (first ? interaction.editReply(body) : interaction.followUp({ ...body, flags: MessageFlags.Ephemeral })));
    return sent.id;
  }

  /** The bot's post with the engine's `key` among the channel's recent messages (by its nonce). */
  async recall(address: Address, key: string): Promise<SentMessage | undefined> {
    const nonce = nonceOf(key);
    const recent = (await this.#call("read the channel", address.channel, () => this.#o.client.rest.get(Routes.channelMessages(address.channel), { query: new URLSearchParams({ limit: String(RECALL_DEPTH) }) }))) as Array<{ id: string; nonce?: string | number; author?: { id?: string } }>;
    const botId = this.#o.botId();
    const found = recent.find((m) => String(m.nonce ?? "") === nonce && (botId === undefined || m.author?.id === botId));
    return found ? { id: found.id } : undefined;
  }

  async #viaInteraction(interaction: Replyable, part: DiscordMessage, first: boolean, address: Address): Promise<string> {
    const sent = await this.#call("answer the command", address.channel, () => (first ? interaction.editReply(viaJs(part)) : interaction.followUp(viaJs(part))));
    this.#o.interactions.sent(sent.id, interaction, first);
    return sent.id;
  }

  /**
   * A channel message; for a task's message (`toPerson`), where the channel is gone or closed
   * to the bot, a DM to the person instead. A scheduled post has no such fallback: it fails,
   * and the scheduler pauses a schedule whose target is gone.
   */
  async #post(address: Address, part: DiscordMessage, key: string | undefined, toPerson: boolean): Promise<string> {
    const body = { ...part, ...(key ? { nonce: nonceOf(key), enforce_nonce: true } : {}) };
    try {
      const sent = (await this.#o.client.rest.post(Routes.channelMessages(address.channel), { body })) as { id: string };
      return sent.id;
    } catch (error) {
      const mapped = toChatflowError(error, { action: "post a message", channel: address.channel, token: this.#o.token });
      if (!toPerson || address.direct || !/^\d+$/.test(address.user) || (mapped.code !== "permission" && mapped.code !== "not_found")) throw mapped;
      const dm = (await this.#call("open a DM", undefined, () => this.#o.client.rest.post(Routes.userChannels(), { body: { recipient_id: address.user } }))) as { id: string };
      const sent = (await this.#call("post in a DM", dm.id, () => this.#o.client.rest.post(Routes.channelMessages(dm.id), { body }))) as { id: string };
      // The DM's channel travels with the id, so later edits find the message.
      return `${dm.id}/${sent.id}`;
    }
  }

  #remember(messageId: string, draft: string, taskId: string | undefined): void {
    this.reviews.set(messageId, { draft, ...(taskId !== undefined ? { taskId } : {}) });
    if (this.reviews.size > 1000) this.reviews.delete(this.reviews.keys().next().value!);
  }

  async #call<T>(action: string, channel: string | undefined, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toChatflowError(error, { action, ...(channel ? { channel } : {}), token: this.#o.token });
    }
  }
}

/** A rendered message as discord.js's interaction methods take it (camelCase mentions, API components). */
function viaJs(part: DiscordMessage) {
  return { content: part.content, components: part.components as never, embeds: part.embeds, allowedMentions: { parse: [] } };
}

/** An interaction response that the channel route does not know (or may not edit). */
function isInteractionResponseGone(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 10008 || code === 50005 || isExpiredToken(error);
}
