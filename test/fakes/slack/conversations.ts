import { compareTs, type FakeMessage, type Json } from "./protocol.ts";
import { dmOf } from "./store.ts";
import { channelError, fail, ok, type Handler, type WebApiContext } from "./web-api.ts";

/** Reading methods (conversations.history/replies/info, chat.getPermalink, users.info) and reactions.add. */

const encodeCursor = (ts: string): string => Buffer.from(`next_ts:${ts}`).toString("base64");
function decodeCursor(cursor: unknown): string | undefined | null {
  if (cursor === undefined || cursor === "") return undefined;
  const text = Buffer.from(String(cursor), "base64").toString("utf8");
  return text.startsWith("next_ts:") ? text.slice("next_ts:".length) : null;
}

/** Applies oldest/latest/inclusive (timeline bounds) as Slack documents them. */
function inWindow(m: FakeMessage, p: Json): boolean {
  const inclusive = p.inclusive === true;
  if (p.oldest !== undefined && (inclusive ? compareTs(m.ts, String(p.oldest)) < 0 : compareTs(m.ts, String(p.oldest)) <= 0)) return false;
  if (p.latest !== undefined && (inclusive ? compareTs(m.ts, String(p.latest)) > 0 : compareTs(m.ts, String(p.latest)) >= 0)) return false;
  return true;
}

/** `limit` (history: default 100, at most 999; replies: default and at most 1000). */
function limitOf(ctx: WebApiContext, method: string, p: Json, fallback: number, max: number): number {
  const limit = typeof p.limit === "number" ? p.limit : fallback;
  if (limit < 1 || limit > max) ctx.violation(`${method}.limit: ${limit}, must be 1-${max}`);
  return Math.max(1, Math.min(limit, max));
}

const page = (next: string | undefined): Json => ({ response_metadata: { next_cursor: next ? encodeCursor(next) : "" } });

export const readMethods: Record<string, Handler> = {
  "conversations.history"(ctx, p) {
    const channel = String(p.channel);
    const refused = channelError(ctx, channel, "read");
    if (refused) return refused;
    const cursor = decodeCursor(p.cursor);
    if (cursor === null) return fail("invalid_cursor");
    const limit = limitOf(ctx, "conversations.history", p, 100, 999);
    // Newest first; a cursor continues below the last ts of the previous page.
    const all = ctx.store.history(channel).filter((m) => inWindow(m, p) && (cursor === undefined || compareTs(m.ts, cursor) < 0)).reverse();
    const shown = all.slice(0, limit);
    const hasMore = all.length > limit;
    const messages = shown.map((m) => ctx.store.wire(m, ctx.identity, { metadata: p.include_all_metadata === true }));
    return ok({ messages, has_more: hasMore, pin_count: 0, channel_actions_ts: null, channel_actions_count: 0, ...page(hasMore ? shown.at(-1)!.ts : undefined) });
  },

  "conversations.replies"(ctx, p) {
    const channel = String(p.channel);
    const refused = channelError(ctx, channel, "read");
    if (refused) return refused;
    const found = ctx.store.message(channel, String(p.ts));
    if (!found || found.deleted) return fail("thread_not_found");
    const parent = found.threadTs !== undefined && found.threadTs !== found.ts ? ctx.store.message(channel, found.threadTs) : found;
    if (!parent) return fail("thread_not_found");
    const cursor = decodeCursor(p.cursor);
    if (cursor === null) return fail("invalid_cursor");
    const limit = limitOf(ctx, "conversations.replies", p, 1000, 1000);
    // Oldest first; as on Slack, every page starts with the parent.
    const replies = ctx.store.replies(channel, parent.ts).filter((m) => inWindow(m, p) && (cursor === undefined || compareTs(m.ts, cursor) > 0));
    const shown = replies.slice(0, Math.max(1, limit - 1));
    const hasMore = replies.length > shown.length;
    const metadata = p.include_all_metadata === true;
    const messages = [parent, ...shown].map((m) => ctx.store.wire(m, ctx.identity, { metadata }));
    return ok({ messages, has_more: hasMore, ...page(hasMore ? (shown.at(-1)?.ts ?? parent.ts) : undefined) });
  },

  "conversations.info"(ctx, p) {
    const channel = String(p.channel);
    if (ctx.missing.has(channel)) return fail("channel_not_found");
    const im = channel.startsWith("D");
    return ok({
      channel: im
        ? { id: channel, created: 1_700_000_000, is_im: true, is_org_shared: false, user: "U0PERSON01", is_user_deleted: false, priority: 0 }
        : {
            id: channel, name: channel.toLowerCase(), name_normalized: channel.toLowerCase(), created: 1_700_000_000, creator: "U0PERSON01",
            is_channel: !channel.startsWith("G"), is_group: channel.startsWith("G"), is_im: false, is_mpim: false, is_private: channel.startsWith("G"),
            is_archived: ctx.archived.has(channel), is_general: false, is_shared: false, is_ext_shared: false, is_org_shared: false,
            is_member: !ctx.notInChannel.has(channel), topic: { value: "", creator: "", last_set: 0 }, purpose: { value: "", creator: "", last_set: 0 }, previous_names: [],
          },
    });
  },

  "conversations.open"(ctx, p) {
    const users = String(p.users ?? "").split(",").filter(Boolean);
    if (p.channel === undefined && users.length !== 1) {
      ctx.violation("conversations.open: the fake opens DMs with one person (users=U…) only");
      return fail(users.length === 0 ? "users_list_not_supplied" : "not_supported");
    }
    const id = p.channel !== undefined ? String(p.channel) : dmOf(users[0]!);
    return ok({ channel: p.return_im === true ? { id, created: 1_700_000_000, is_im: true, user: users[0] ?? "", is_open: true } : { id } });
  },

  "chat.getPermalink"(ctx, p) {
    const channel = String(p.channel);
    if (ctx.missing.has(channel)) return fail("channel_not_found");
    const message = ctx.store.message(channel, String(p.message_ts));
    if (!message || message.deleted) return fail("message_not_found");
    const base = `https://${ctx.identity.team.domain}.slack.com/archives/${channel}/p${message.ts.replace(".", "")}`;
    const reply = message.threadTs !== undefined && message.threadTs !== message.ts;
    return ok({ channel, permalink: reply ? `${base}?thread_ts=${message.threadTs}&cid=${channel}` : base });
  },

  "reactions.add"(ctx, p) {
    const channel = String(p.channel);
    const refused = channelError(ctx, channel, "write");
    if (refused) return refused;
    const message = ctx.store.message(channel, String(p.timestamp));
    if (!message || message.deleted) return fail("message_not_found");
    const name = String(p.name).replace(/^:|:$/g, "");
    const users = message.reactions.get(name) ?? new Set<string>();
    if (users.has(ctx.identity.bot.userId)) return fail("already_reacted");
    message.reactions.set(name, users.add(ctx.identity.bot.userId));
    return ok();
  },

  "users.info"(ctx, p) {
    const user = String(p.user);
    const bot = user === ctx.identity.bot.userId;
    if (!/^[UW]/.test(user)) return fail("user_not_found");
    const name = bot ? ctx.identity.bot.name : user.toLowerCase();
    return ok({
      user: {
        id: user, team_id: ctx.identity.team.id, name, deleted: false, real_name: bot ? ctx.identity.bot.name : `Person ${user}`, tz: "Europe/London", tz_label: "Greenwich Mean Time", tz_offset: 0,
        is_admin: false, is_owner: false, is_bot: bot, is_app_user: false, updated: 1_700_000_000,
        profile: { real_name: bot ? ctx.identity.bot.name : `Person ${user}`, display_name: name, team: ctx.identity.team.id, ...(bot ? { bot_id: ctx.identity.bot.botId } : {}) },
      },
    });
  },
};
