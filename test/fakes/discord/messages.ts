import { FLAGS, withIds } from "./limits.ts";
import type { FakeChannel, FakeMessage, Json } from "./protocol.ts";
import { RestError, type RestContext } from "./rest.ts";

/** Creating and editing the bot's messages from request bodies, as channel, webhook and interaction routes share it. */

const hasItems = (value: unknown): boolean => Array.isArray(value) && value.length > 0;

/** Whether a body would make a message with nothing in it (Discord: 50006 Cannot send an empty message). */
export function isEmpty(body: Json): boolean {
  return (typeof body.content !== "string" || body.content === "") && !hasItems(body.embeds) && !hasItems(body.components) && !hasItems(body.attachments) && !hasItems(body.sticker_ids) && !body.poll;
}

export interface MessageExtra {
  /** Message type: 0 DEFAULT, 19 REPLY, 20 CHAT_INPUT_COMMAND. */
  type?: number;
  ephemeralTo?: string;
  interactionId?: string;
  /** Flags to add (LOADING for a deferred reply). */
  flags?: number;
  /** Webhook messages (interaction responses, follow-ups) carry the application's id. */
  webhook?: boolean;
  /** Allow an empty message (a deferred reply's placeholder). */
  allowEmpty?: boolean;
}

/** Stores a message of the bot in a channel from a body (content, embeds, components, flags...), echoing it to the gateway unless ephemeral. */
export function createBotMessage(ctx: RestContext, channel: FakeChannel, body: Json, extra: MessageExtra = {}): FakeMessage {
  if (!extra.allowEmpty && isEmpty(body)) throw new RestError(50006);
  const flags = ((typeof body.flags === "number" ? body.flags : 0) | (extra.flags ?? 0)) & ~(extra.ephemeralTo === undefined ? FLAGS.EPHEMERAL : 0);
  const reference = body.message_reference as Json | null | undefined;
  const message = ctx.store.addMessage({
    channelId: channel.id,
    ...(channel.guildId ? { guildId: channel.guildId } : {}),
    author: ctx.identity.bot,
    content: typeof body.content === "string" ? body.content : "",
    embeds: Array.isArray(body.embeds) ? (body.embeds as Json[]) : [],
    components: Array.isArray(body.components) ? withIds(body.components as Json[]) : [],
    flags,
    type: extra.type ?? (reference ? 19 : 0),
    tts: body.tts === true,
    ...(body.nonce !== undefined && body.nonce !== null ? { nonce: body.nonce as string | number } : {}),
    ...(reference ? { messageReference: { type: 0, channel_id: channel.id, ...reference } } : {}),
    ...(body.allowed_mentions ? { allowedMentions: body.allowed_mentions as Json } : {}),
    ...(extra.webhook ? { webhookId: ctx.identity.application.id, applicationId: ctx.identity.application.id } : {}),
    ...(extra.ephemeralTo !== undefined ? { ephemeralTo: extra.ephemeralTo } : {}),
    ...(extra.interactionId !== undefined ? { interactionId: extra.interactionId } : {}),
  });
  if (message.ephemeralTo === undefined) ctx.echo(message);
  return message;
}

/**
 * Applies an edit body: the fields it carries replace the message's (`content`, `embeds`,
 * `components`, `allowed_mentions`; `null` clears), `flags` may only change SUPPRESS_EMBEDS
 * and IS_COMPONENTS_V2. A deferred reply's placeholder (LOADING) becomes the reply.
 */
export function editMessage(ctx: RestContext, message: FakeMessage, body: Json): FakeMessage {
  const changes: Partial<FakeMessage> = {};
  if ("content" in body) changes.content = typeof body.content === "string" ? body.content : "";
  if ("embeds" in body) changes.embeds = Array.isArray(body.embeds) ? (body.embeds as Json[]) : [];
  if ("components" in body) changes.components = Array.isArray(body.components) ? withIds(body.components as Json[]) : [];
  if ("allowed_mentions" in body && body.allowed_mentions) changes.allowedMentions = body.allowed_mentions as Json;
  const changeable = FLAGS.SUPPRESS_EMBEDS | FLAGS.IS_COMPONENTS_V2;
  let flags = message.flags & ~FLAGS.LOADING;
  if (typeof body.flags === "number") flags = (flags & ~changeable) | (body.flags & changeable);
  changes.flags = flags;
  const after = { ...message, ...changes };
  const attachments = "attachments" in body ? body.attachments : undefined;
  if (isEmpty({ content: after.content, embeds: after.embeds, components: after.components, attachments })) throw new RestError(50006);
  return ctx.store.edit(message, changes);
}
