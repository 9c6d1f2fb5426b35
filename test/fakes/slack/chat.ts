import { normalizeBlocks } from "./blocks.ts";
import { nextTs, type FakeMessage, type Json } from "./protocol.ts";
import { dmOf } from "./store.ts";
import { channelError, checkContent, fail, ok, type Handler, type WebApiContext } from "./web-api.ts";

/** chat.* methods: posting, editing, ephemerals, deleting, streaming. */

/** Checks thread_ts names a message of the channel, and not a reply (Slack: use the parent's ts). */
function checkThread(ctx: WebApiContext, where: string, channel: string, threadTs: unknown): void {
  if (threadTs === undefined) return;
  const parent = ctx.store.message(channel, String(threadTs));
  if (!parent) ctx.violation(`${where}.thread_ts: ${String(threadTs)} names no message in ${channel}`);
  else if (parent.threadTs !== undefined && parent.threadTs !== parent.ts) ctx.violation(`${where}.thread_ts: ${String(threadTs)} is a reply; use its parent's ts ${parent.threadTs}`);
}

function botMessage(ctx: WebApiContext, channel: string, fields: Partial<FakeMessage>): FakeMessage {
  return ctx.store.add({ channel, ts: nextTs(), from: "bot", user: ctx.identity.bot.userId, botId: ctx.identity.bot.botId, text: "", edits: 0, reactions: new Map(), ...fields });
}

/** Text of markdown_text chunks (the chunk kind streams send text in). */
function chunkText(chunks: unknown): string {
  return Array.isArray(chunks) ? chunks.filter((c: Json) => c?.type === "markdown_text").map((c: Json) => String(c.text ?? "")).join("") : "";
}

export const chatMethods: Record<string, Handler> = {
  "chat.postMessage"(ctx, p) {
    // A user id posts to the bot's DM with that person, as on Slack.
    const channel = /^[UW]/.test(String(p.channel)) ? dmOf(String(p.channel)) : String(p.channel);
    const refused = channelError(ctx, channel, "write");
    if (refused) return refused;
    const content = checkContent(ctx, "chat.postMessage", p, { needsContent: true });
    if ("error" in content) return content.error;
    checkThread(ctx, "chat.postMessage", channel, p.thread_ts);
    const message = botMessage(ctx, channel, {
      text: content.text ?? "",
      ...(Array.isArray(p.blocks) ? { blocks: normalizeBlocks(p.blocks as Json[]) } : p.markdown_text !== undefined ? { blocks: [{ type: "markdown", text: String(p.markdown_text) }] } : {}),
      ...(p.metadata ? { metadata: p.metadata as Json } : {}),
      ...(p.thread_ts !== undefined ? { threadTs: String(p.thread_ts) } : {}),
      ...(p.reply_broadcast === true ? { broadcast: true } : {}),
    });
    return ok({ channel, ts: message.ts, message: ctx.store.wire(message, ctx.identity, { metadata: true }) });
  },

  "chat.update"(ctx, p) {
    const channel = String(p.channel);
    const refused = channelError(ctx, channel, "write");
    if (refused) return refused;
    const message = ctx.store.message(channel, String(p.ts));
    if (!message || message.deleted) return fail("message_not_found");
    if (message.from !== "bot") return fail("cant_update_message");
    const content = checkContent(ctx, "chat.update", p, { needsContent: true });
    if ("error" in content) return content.error;
    // As documented: blocks (and metadata) not given are kept; an empty blocks array removes them.
    if (content.text !== undefined) message.text = content.text;
    if (Array.isArray(p.blocks)) {
      if (p.blocks.length > 0) message.blocks = normalizeBlocks(p.blocks as Json[]);
      else delete message.blocks;
    }
    if (p.metadata) message.metadata = p.metadata as Json;
    message.edits++;
    return ok({ channel, ts: message.ts, text: message.text, message: ctx.store.wire(message, ctx.identity) });
  },

  "chat.postEphemeral"(ctx, p) {
    const channel = String(p.channel);
    const refused = channelError(ctx, channel, "write");
    if (refused) return refused;
    const content = checkContent(ctx, "chat.postEphemeral", p, { needsContent: true });
    if ("error" in content) return content.error;
    const ts = nextTs();
    ctx.store.ephemerals.push({ channel, user: String(p.user), ts, text: content.text ?? "", edits: 0, ...(Array.isArray(p.blocks) ? { blocks: normalizeBlocks(p.blocks as Json[]) } : {}), ...(p.thread_ts !== undefined ? { threadTs: String(p.thread_ts) } : {}) });
    return ok({ message_ts: ts });
  },

  "chat.delete"(ctx, p) {
    const channel = String(p.channel);
    const refused = channelError(ctx, channel, "write");
    if (refused) return refused;
    const message = ctx.store.message(channel, String(p.ts));
    if (!message || message.deleted) return fail("message_not_found");
    if (message.from !== "bot") return fail("cant_delete_message");
    message.deleted = true;
    return ok({ channel, ts: message.ts });
  },

  "chat.startStream"(ctx, p) {
    const channel = String(p.channel);
    const refused = channelError(ctx, channel, "write");
    if (refused) return refused;
    if (!channel.startsWith("D") && (p.recipient_user_id === undefined || p.recipient_team_id === undefined)) {
      ctx.violation("chat.startStream: recipient_user_id and recipient_team_id are required when streaming outside a DM");
      return fail("invalid_arguments", ["recipient_user_id and recipient_team_id are required outside DMs"]);
    }
    checkThread(ctx, "chat.startStream", channel, p.thread_ts);
    const text = `${typeof p.markdown_text === "string" ? p.markdown_text : ""}${chunkText(p.chunks)}`;
    const message = botMessage(ctx, channel, { text, stream: "streaming", ...(p.thread_ts !== undefined ? { threadTs: String(p.thread_ts) } : {}) });
    return ok({ channel, ts: message.ts });
  },

  "chat.appendStream"(ctx, p) {
    const channel = String(p.channel);
    const message = ctx.store.message(channel, String(p.ts));
    if (!message || message.from !== "bot") return fail("message_not_found");
    if (message.stream !== "streaming") return fail("message_not_in_streaming_state");
    if (p.markdown_text === undefined && p.chunks === undefined) return fail("invalid_arguments", ["markdown_text or chunks is required"]);
    message.text += `${typeof p.markdown_text === "string" ? p.markdown_text : ""}${chunkText(p.chunks)}`;
    message.edits++;
    return ok({ channel, ts: message.ts });
  },

  "chat.stopStream"(ctx, p) {
    const channel = String(p.channel);
    const message = ctx.store.message(channel, String(p.ts));
    if (!message || message.from !== "bot") return fail("message_not_found");
    if (message.stream !== "streaming") return fail("message_not_in_streaming_state");
    const content = checkContent(ctx, "chat.stopStream", { text: message.text || undefined, blocks: p.blocks, metadata: p.metadata }, { needsContent: false });
    if ("error" in content) return content.error;
    message.text += `${typeof p.markdown_text === "string" ? p.markdown_text : ""}${chunkText(p.chunks)}`;
    if (Array.isArray(p.blocks)) message.blocks = normalizeBlocks(p.blocks as Json[]);
    if (p.metadata) message.metadata = p.metadata as Json;
    message.stream = "stopped";
    return ok({ channel, ts: message.ts, message: ctx.store.wire(message, ctx.identity, { metadata: true }) });
  },
};
