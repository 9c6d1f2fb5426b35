import { z } from "zod";
import type { Address, InboundEvent } from "../../src/model.ts";

/** The bot itself, as auth.test told it. */
export interface SlackIdentity {
  userId: string;
  botId: string;
  teamId: string;
}

/** What a Slack payload means for the engine. */
export type Inbound =
  | { type: "event"; event: InboundEvent }
  /** A message in a channel thread without a mention: the engine's only if chatflow is in that thread. */
  | { type: "thread-message"; event: InboundEvent; channel: string; thread: string }
  | { type: "ignored"; reason: string };

// Only the fields chatflow reads; the event keeps the whole payload in `raw`.
const messageEvent = z.object({
  type: z.enum(["message", "app_mention"]),
  subtype: z.string().optional(),
  channel: z.string().min(1),
  channel_type: z.string().optional(),
  user: z.string().min(1).optional(),
  bot_id: z.string().optional(),
  text: z.string().optional(),
  ts: z.string().min(1),
  thread_ts: z.string().optional(),
});

/** Message subtypes that are a person writing (others are edits, joins, deletions, bots…). */
const PERSON_SUBTYPES = new Set([undefined, "thread_broadcast", "file_share"]);

/**
 * A `message` or `app_mention` event. Slack sends a channel mention as both, with the same
 * `ts`: both become the same event id (`<channel>:<ts>`), so the engine takes it once.
 * - a direct message (channel `D…`): the conversation, `direct`;
 * - in channels, a message mentioning the bot starts or continues the conversation in the
 *   thread of that message (`thread` = its `thread_ts`, or its own `ts`); the mention is removed;
 * - a message in a thread without a mention: `thread-message`, for the caller to check that
 *   chatflow is in that thread;
 * - `/name args` after the mention (or in a DM) is a command.
 * The bot's own messages, other bots, edits, deletions and joins are ignored.
 */
export function fromMessageEvent(raw: unknown, me: SlackIdentity): Inbound {
  const parsed = messageEvent.safeParse(raw);
  if (!parsed.success) return { type: "ignored", reason: `malformed message event: ${firstIssue(parsed.error)}` };
  const msg = parsed.data;
  if (!PERSON_SUBTYPES.has(msg.subtype)) return { type: "ignored", reason: `message subtype ${msg.subtype}` };
  if (msg.bot_id !== undefined || !msg.user) return { type: "ignored", reason: "message from a bot" };
  if (msg.user === me.userId) return { type: "ignored", reason: "the bot's own message" };
  const id = `${msg.channel}:${msg.ts}`;
  const text = msg.text ?? "";
  if (isDirect(msg.channel, msg.channel_type)) {
    return { type: "event", event: toEvent(id, { platform: "slack", channel: msg.channel, user: msg.user, direct: true }, plainFromSlack(text, me), msg.ts, raw) };
  }
  const mention = `<@${me.userId}>`;
  const thread = msg.thread_ts ?? msg.ts;
  const address: Address = { platform: "slack", channel: msg.channel, thread, user: msg.user };
  if (msg.type === "app_mention" || text.includes(mention)) {
    return { type: "event", event: toEvent(id, address, plainFromSlack(text.split(mention).join(" "), me), msg.ts, raw) };
  }
  if (msg.thread_ts !== undefined) return { type: "thread-message", event: toEvent(id, address, plainFromSlack(text, me), msg.ts, raw), channel: msg.channel, thread: msg.thread_ts };
  return { type: "ignored", reason: "channel message not addressed to the bot" };
}

function toEvent(id: string, address: Address, text: string, ts: string, raw: unknown): InboundEvent {
  const command = parseCommand(text);
  if (command) return { kind: "command", id, address, raw, platformMessageId: ts, name: command.name, args: command.args };
  return { kind: "message", id, address, raw, platformMessageId: ts, text };
}

/** Whether a conversation is a direct message with the bot (IM ids start with `D`). */
export function isDirect(channel: string, channelType?: string): boolean {
  return channelType === "im" || (channelType === undefined && channel.startsWith("D"));
}

/** `/name args`; undefined when the text is not a command. */
export function parseCommand(text: string): { name: string; args: string } | undefined {
  const match = /^\/([A-Za-z0-9_-]{1,64})(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!match) return undefined;
  return { name: match[1]!.toLowerCase(), args: (match[2] ?? "").trim() };
}

/**
 * Slack's message text as the person typed it: `<@U…>` mentions as `@U…`, `<url|label>` and
 * `<url>` as the URL, `<!here>`-style specials as `@here`, and `&amp; &lt; &gt;` decoded.
 */
export function plainFromSlack(text: string, me?: SlackIdentity): string {
  return text
    .replace(/<([^<>]+)>/g, (_match, inner: string) => {
      const [target = "", label] = inner.split("|", 2);
      if (target.startsWith("@")) return me && target.slice(1) === me.userId ? "" : `@${label ?? target.slice(1)}`;
      if (target.startsWith("#")) return `#${label ?? target.slice(1)}`;
      if (target.startsWith("!")) return `@${label ?? target.slice(1).split("^")[0]}`;
      return target;
    })
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .replace(/[ \t]{2,}/g, " ")
    .trim();
}

export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid";
}
