import type { IncomingMessage, ServerResponse } from "node:http";

/** Shapes the fake Discord keeps and records, and small helpers of the wire. */

export type Json = Record<string, unknown>;

/** One REST call, as the fake received and answered it. */
export interface RecordedCall {
  /** HTTP method: GET, POST, PATCH, PUT, DELETE. */
  method: string;
  /** The route template with its method, e.g. `PATCH /webhooks/:app/:token/messages/@original` (`?` when no route matched). */
  route: string;
  /** The path after `/api/v10` as sent (`%40original` decoded). */
  path: string;
  /** Path parameters by template name (`channel`, `message`, `app`, `token`, `id`...). */
  params: Record<string, string>;
  /** Query parameters. */
  query: Record<string, string>;
  /** The JSON body (undefined without one). */
  body: unknown;
  /** Which Authorization the call carried: `bot` (right token), `wrong`, `none`. */
  auth: "bot" | "wrong" | "none";
  /** Milliseconds since the epoch, when the request arrived. */
  at: number;
  /** HTTP status answered (0 for a dropped connection). */
  status: number;
  /** The Discord error code answered (`0` for a 401 and the 5xx the fake sends), if any. */
  code?: number;
  /** The failure injected by a rule or a rate limiter, if any (`ratelimited`, `server_error`, `drop`, a code). */
  injected?: string;
}

/** A user as Discord shows it (the bot is one too). */
export interface FakeUser {
  id: string;
  username: string;
  global_name: string | null;
  discriminator: string;
  avatar: string | null;
  bot?: boolean;
  public_flags: number;
  flags: number;
}

/** A channel the fake knows: a guild text channel or a DM with one person. */
export interface FakeChannel {
  id: string;
  /** 0 GUILD_TEXT, 1 DM (others are served as given, without special behaviour). */
  type: number;
  name?: string;
  guildId?: string;
  /** For DMs: the other person. */
  recipientId?: string;
  lastMessageId?: string | null;
}

/** A guild the fake knows (sent to the bot in GUILD_CREATE after READY). */
export interface FakeGuild {
  id: string;
  name: string;
  ownerId: string;
}

/** A message as the fake keeps it (channel messages, interaction responses, follow-ups, ephemerals). */
export interface FakeMessage {
  id: string;
  channelId: string;
  guildId?: string;
  author: FakeUser;
  content: string;
  embeds: Json[];
  /** Components as Discord stores them (each with its numeric `id`). */
  components: Json[];
  /** Message flags: 64 EPHEMERAL, 128 LOADING (a deferred reply), 4 SUPPRESS_EMBEDS, 4096 SUPPRESS_NOTIFICATIONS, 32768 IS_COMPONENTS_V2. */
  flags: number;
  /** 0 DEFAULT, 19 REPLY, 20 CHAT_INPUT_COMMAND. */
  type: number;
  nonce?: string | number;
  tts: boolean;
  /** ISO time of creation. */
  timestamp: string;
  editedTimestamp: string | null;
  /** Times it was edited (PATCH, an UPDATE_MESSAGE callback, an edit of a deferred reply). */
  edits: number;
  /** Set on interaction responses and follow-ups: the application (webhook) id. */
  webhookId?: string;
  applicationId?: string;
  /** The interaction this message answers (responses and follow-ups). */
  interactionId?: string;
  /** Ephemeral messages: the only person who sees them. */
  ephemeralTo?: string;
  messageReference?: Json;
  allowedMentions?: Json;
  deleted?: boolean;
  /** Milliseconds since the epoch of creation and of the last edit. */
  createdAt: number;
  editedAt?: number;
}

/** An answer to an interaction (POST /interactions/:id/:token/callback). */
export interface FakeCallback {
  /** 4 CHANNEL_MESSAGE_WITH_SOURCE, 5 DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, 6 DEFERRED_UPDATE_MESSAGE, 7 UPDATE_MESSAGE, 9 MODAL... */
  type: number;
  /** When it arrived (ms since the epoch). */
  at: number;
  /** Time since the interaction was created (the person acted), in ms. */
  sinceDispatchMs: number;
  /** HTTP status answered (204, 200 with `with_response=true`, or an error). */
  status: number;
  /** The Discord error code answered, if any (10062 too late, 40060 already acknowledged). */
  code?: number;
  /** The `data` of the callback. */
  data?: Json;
}

/** A modal the app opened (callback type 9). */
export interface FakeModal {
  /** The interaction the modal answered. */
  interactionId: string;
  /** Who sees it. */
  userId: string;
  channelId: string;
  guildId?: string;
  customId: string;
  title: string;
  /** Its components as the app sent them (Label components, type 18, or legacy action rows), with the numeric ids Discord adds. */
  components: Json[];
  /** The message of the button that opened it, if a button did. */
  messageId?: string;
  openedAt: number;
  /** The MODAL_SUBMIT interaction ids, in order (a person may submit only once; the fake allows more for tests). */
  submissions: string[];
}

/** A Discord API error: HTTP status, code and message (field errors for 50035). */
export interface DiscordError {
  status: number;
  code: number;
  message: string;
  errors?: Json;
}

/** Discord's errors the fake answers, by code: HTTP status and message. */
export const ERRORS: Record<number, { status: number; message: string }> = {
  0: { status: 401, message: "401: Unauthorized" },
  10003: { status: 404, message: "Unknown Channel" },
  10008: { status: 404, message: "Unknown Message" },
  10013: { status: 404, message: "Unknown User" },
  10015: { status: 404, message: "Unknown Webhook" },
  10062: { status: 404, message: "Unknown interaction" },
  10063: { status: 404, message: "Unknown application command" },
  30001: { status: 403, message: "Maximum number of guilds reached (100)" },
  40060: { status: 400, message: "Interaction has already been acknowledged." },
  50001: { status: 403, message: "Missing Access" },
  50005: { status: 403, message: "Cannot edit a message authored by another user" },
  50006: { status: 400, message: "Cannot send an empty message" },
  50007: { status: 403, message: "Cannot send messages to this user" },
  50013: { status: 403, message: "Missing Permissions" },
  50027: { status: 401, message: "Invalid Webhook Token" },
  50035: { status: 400, message: "Invalid Form Body" },
};

/** The error answer for a code (status and message from {@link ERRORS}, or 400 and a generic message). */
export function discordError(code: number, extra: Partial<DiscordError> = {}): DiscordError {
  const known = ERRORS[code];
  return { status: known?.status ?? 400, code, message: known?.message ?? `Error ${code}`, ...extra };
}

/** Writes an answer: JSON with a Content-Type, or nothing at all (and no Content-Type) for 204. */
export function send(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  if (res.writableEnded || res.destroyed) return;
  if (status === 204 || payload === undefined) return void res.writeHead(status, headers).end();
  res.writeHead(status, { "Content-Type": "application/json", ...headers }).end(JSON.stringify(payload));
}

export { readBody } from "../http.ts";

/** `PATCH /webhooks/:app/:token/messages/@original → 200 "text…"`, for timeout messages. */
export function describeCall(call: RecordedCall): string {
  const body = call.body as Json | undefined;
  const content = body && typeof body === "object" && typeof body.content === "string" ? ` "${body.content.slice(0, 30).replace(/\n/g, " ")}"` : "";
  const type = body && typeof body === "object" && typeof body.type === "number" ? ` type ${body.type}` : "";
  return `${call.route} → ${call.status}${call.code !== undefined ? ` (${call.code})` : ""}${type}${content}`;
}

/** Discord's epoch (2015-01-01) in ms. */
const DISCORD_EPOCH = 1420070400000n;
let lastSnowflake = 0n;

/** A fresh snowflake (19 digits, increasing across the process, its timestamp now): what ids look like on Discord. */
export function snowflake(): string {
  const base = (BigInt(Date.now()) - DISCORD_EPOCH) << 22n;
  lastSnowflake = base > lastSnowflake ? base : lastSnowflake + 1n;
  return lastSnowflake.toString();
}

/** Compares two snowflakes numerically. */
export function compareIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Whether a string looks like a snowflake (what the spec's SnowflakeType pattern takes). */
export const isSnowflake = (value: string): boolean => /^(0|[1-9][0-9]*)$/.test(value);

/** A fresh interaction token (Discord's are long opaque strings). */
export function interactionToken(id: string): string {
  const random = Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64url");
  return `aW50ZXJhY3Rpb246${Buffer.from(id).toString("base64url")}OmZha2U6${random}`;
}
