import { z } from "zod";
import type { Address, InboundEvent } from "../../src/model.ts";

/** The bot itself, as getMe told it. */
export interface BotIdentity {
  id: number;
  username: string;
}

/** What an update means for the engine. */
export type Inbound =
  /** For a button press `callbackQueryId` is set (answer it at once) and `actionId` is the raw callback_data. */
  | { type: "event"; event: InboundEvent; callbackQueryId?: string }
  /** A button press the engine can't use (no data, inline message): only answered. */
  | { type: "answer-only"; callbackQueryId: string; reason: string }
  | { type: "ignored"; reason: string };

// Only the fields chatflow reads (others are dropped here; the event keeps the whole update in `raw`).
const user = z.object({ id: z.number().int(), is_bot: z.boolean().optional(), username: z.string().optional() });
const chat = z.object({ id: z.number().int(), type: z.string() });
const entity = z.object({ type: z.string(), offset: z.number().int(), length: z.number().int(), user: user.optional() });
const message = z.object({
  message_id: z.number().int(),
  chat,
  from: user.optional(),
  text: z.string().optional(),
  entities: z.array(entity).optional(),
  message_thread_id: z.number().int().optional(),
  is_topic_message: z.boolean().optional(),
  reply_to_message: z.object({ from: user.optional() }).optional(),
});
const callbackQuery = z.object({
  id: z.string().min(1),
  from: user,
  message: z.object({ message_id: z.number().int(), chat, message_thread_id: z.number().int().optional(), is_topic_message: z.boolean().optional() }).optional(),
  data: z.string().optional(),
});
const update = z.object({ update_id: z.number().int(), message: z.unknown().optional(), callback_query: z.unknown().optional() });

type TelegramMessage = z.infer<typeof message>;

/**
 * Normalizes an update into an inbound event:
 * - a text message in a private chat → `message`, or `command` for `/name args`
 *   (`/name@thisbot` too; `/start` opens with the help);
 * - in groups, only commands, messages that mention the bot, and replies to the bot
 *   (the mention is removed from the text);
 * - a button press (`callback_query` with data) → `action` with the data as `actionId`
 *   (the caller maps short keys back, see callback-data.ts).
 * Addresses: channel = chat id, user = sender id, thread = forum topic id, `direct` in private
 * chats. The event id is
 * the update_id. Anything else (edits, media, malformed updates) is ignored, with a reason.
 */
export function toInbound(raw: unknown, me: BotIdentity): Inbound {
  const parsed = update.safeParse(raw);
  if (!parsed.success) return { type: "ignored", reason: "not an update (no integer update_id)" };
  const id = String(parsed.data.update_id);
  if (parsed.data.message !== undefined) return fromMessage(id, parsed.data.message, me, raw);
  if (parsed.data.callback_query !== undefined) return fromCallback(id, parsed.data.callback_query, raw);
  const kinds = Object.keys(raw as object).filter((key) => key !== "update_id");
  return { type: "ignored", reason: `unsupported update type: ${kinds.join(", ") || "empty"}` };
}

function fromMessage(id: string, value: unknown, me: BotIdentity, raw: unknown): Inbound {
  const checked = message.safeParse(value);
  if (!checked.success) return { type: "ignored", reason: `malformed message: ${firstIssue(checked.error)}` };
  const msg = checked.data;
  if (!msg.from) return { type: "ignored", reason: "message without a sender (channel post or anonymous admin)" };
  if (msg.from.is_bot) return { type: "ignored", reason: "message from a bot" };
  if (msg.text === undefined) return { type: "ignored", reason: "message without text (media, service message)" };
  const address = addressOf(msg.chat, msg.from.id, msg);
  const platformMessageId = String(msg.message_id);
  // Events are built field by field: object spread here measurably slows the hot path.
  const command = parseCommand(msg.text);
  if (command) {
    if (command.bot !== undefined && command.bot.toLowerCase() !== me.username.toLowerCase()) {
      return { type: "ignored", reason: `command for another bot (@${command.bot})` };
    }
    const start = command.name === "start";
    return { type: "event", event: { kind: "command", id, address, raw, platformMessageId, name: start ? "help" : command.name, args: start ? "" : command.args } };
  }
  if (msg.chat.type === "private") return { type: "event", event: { kind: "message", id, address, raw, platformMessageId, text: msg.text } };

  const mentioned = mentionsOf(msg, me);
  const repliesToBot = msg.reply_to_message?.from?.id === me.id;
  if (!mentioned && !repliesToBot) return { type: "ignored", reason: "group message not addressed to the bot" };
  const text = mentioned ? removeMentions(msg.text, mentioned) : msg.text;
  return { type: "event", event: { kind: "message", id, address, raw, platformMessageId, text: text.trim() } };
}

function fromCallback(id: string, value: unknown, raw: unknown): Inbound {
  const checked = callbackQuery.safeParse(value);
  if (!checked.success) {
    const queryId = (value as { id?: unknown } | null)?.id;
    const reason = `malformed callback_query: ${firstIssue(checked.error)}`;
    return typeof queryId === "string" && queryId !== "" ? { type: "answer-only", callbackQueryId: queryId, reason } : { type: "ignored", reason };
  }
  const query = checked.data;
  if (query.data === undefined || query.data === "") return { type: "answer-only", callbackQueryId: query.id, reason: "callback_query without data (game button)" };
  if (!query.message) return { type: "answer-only", callbackQueryId: query.id, reason: "callback_query on an inline message" };
  const address = addressOf(query.message.chat, query.from.id, query.message);
  return {
    type: "event",
    callbackQueryId: query.id,
    event: { id, kind: "action", actionId: query.data, address, raw, platformMessageId: String(query.message.message_id) },
  };
}

function addressOf(chat: { id: number; type: string }, userId: number, where: { message_thread_id?: number | undefined; is_topic_message?: boolean | undefined }): Address {
  const address: Address = { platform: "telegram", channel: String(chat.id), user: String(userId) };
  if (chat.type === "private") address.direct = true;
  // Only forum topics are threads; in other groups message_thread_id marks reply chains.
  if (where.is_topic_message && where.message_thread_id !== undefined) address.thread = String(where.message_thread_id);
  return address;
}

/** `/name args` or `/name@bot args`; undefined when the text is not a command. */
export function parseCommand(text: string): { name: string; bot?: string; args: string } | undefined {
  const match = /^\/([A-Za-z0-9_-]{1,64})(?:@([A-Za-z0-9_]+))?(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!match) return undefined;
  const [, name = "", bot, args = ""] = match;
  return { name: name.toLowerCase(), ...(bot ? { bot } : {}), args: args.trim() };
}

/** The mention entities that point at the bot (`@username`, or a text mention of its id). */
function mentionsOf(msg: TelegramMessage, me: BotIdentity): Array<{ offset: number; length: number }> | undefined {
  const text = msg.text ?? "";
  const handle = `@${me.username}`.toLowerCase();
  const found = (msg.entities ?? []).filter(
    (e) => (e.type === "mention" && text.slice(e.offset, e.offset + e.length).toLowerCase() === handle) || (e.type === "text_mention" && e.user?.id === me.id),
  );
  return found.length > 0 ? found : undefined;
}

function removeMentions(text: string, mentions: Array<{ offset: number; length: number }>): string {
  let result = text;
  // From the end, so earlier offsets stay valid.
  for (const m of [...mentions].sort((a, b) => b.offset - a.offset)) result = result.slice(0, m.offset) + result.slice(m.offset + m.length);
  return result.replace(/ {2,}/g, " ");
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid";
}
