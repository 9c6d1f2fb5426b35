import { id, nowSeconds, type Json } from "./protocol.ts";
import type { Identity } from "./store.ts";

/**
 * Builders of what Slack delivers, shaped as the Events API and interactivity payloads are
 * documented (compare ./payloads, copied from Slack's docs and bolt-python's tests).
 */

/** `im` for D… ids, `group` for G… (private channels), else `channel`. */
export function channelTypeOf(channel: string): "im" | "group" | "channel" {
  return channel.startsWith("D") ? "im" : channel.startsWith("G") ? "group" : "channel";
}

/** The event_callback wrapper of an event: returns it with its fresh event_id. */
export function eventCallback(identity: Identity, event: Json): { payload: Json; eventId: string } {
  const eventId = id("Ev");
  return {
    eventId,
    payload: {
      token: "fake-verification-token",
      team_id: identity.team.id,
      context_team_id: identity.team.id,
      context_enterprise_id: null,
      api_app_id: identity.bot.appId,
      event,
      type: "event_callback",
      event_id: eventId,
      event_time: nowSeconds(),
      authorizations: [{ enterprise_id: null, team_id: identity.team.id, user_id: identity.bot.userId, is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false,
      event_context: `4-${Buffer.from(eventId).toString("base64url")}`,
    },
  };
}

/** The rich_text block Slack's clients attach to a typed message (user mentions as `user` elements). */
export function richText(text: string): Json[] {
  const elements: Json[] = [];
  let last = 0;
  for (const match of text.matchAll(/<@([UW][A-Z0-9]+)>/g)) {
    if (match.index > last) elements.push({ type: "text", text: text.slice(last, match.index) });
    elements.push({ type: "user", user_id: match[1] });
    last = match.index + match[0].length;
  }
  if (last < text.length) elements.push({ type: "text", text: text.slice(last) });
  return [{ type: "rich_text", block_id: id("b").slice(-5), elements: [{ type: "rich_text_section", elements }] }];
}

export interface TypedMessage {
  channel: string;
  user: string;
  text: string;
  ts: string;
  threadTs?: string;
  /** The thread parent's author, for replies. */
  parentUser?: string;
  channelType?: "channel" | "group" | "im" | "mpim";
}

/** A `message` event of a person's message (no subtype). */
export function messageEvent(identity: Identity, m: TypedMessage, clientMsgId: string): Json {
  return {
    user: m.user,
    type: "message",
    ts: m.ts,
    client_msg_id: clientMsgId,
    text: m.text,
    team: identity.team.id,
    blocks: richText(m.text),
    channel: m.channel,
    event_ts: m.ts,
    channel_type: m.channelType ?? channelTypeOf(m.channel),
    ...(m.threadTs !== undefined ? { thread_ts: m.threadTs, ...(m.parentUser ? { parent_user_id: m.parentUser } : {}) } : {}),
  };
}

/** The `app_mention` event of the same message (same ts; no channel_type, as documented). */
export function appMentionEvent(identity: Identity, m: TypedMessage, clientMsgId: string): Json {
  return {
    user: m.user,
    type: "app_mention",
    ts: m.ts,
    client_msg_id: clientMsgId,
    text: m.text,
    team: identity.team.id,
    blocks: richText(m.text),
    channel: m.channel,
    event_ts: m.ts,
    ...(m.threadTs !== undefined ? { thread_ts: m.threadTs } : {}),
  };
}

export function userObject(identity: Identity, user: string): Json {
  return { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: identity.team.id };
}

/** A slash command's fields (form fields over HTTP, the payload object over Socket Mode). */
export function slashCommandPayload(identity: Identity, c: { command: string; text: string; user: string; channel: string; responseUrl: string; triggerId: string }): Json {
  return {
    token: "fake-verification-token",
    team_id: identity.team.id,
    team_domain: identity.team.domain,
    channel_id: c.channel,
    channel_name: c.channel.startsWith("D") ? "directmessage" : c.channel.toLowerCase(),
    user_id: c.user,
    user_name: c.user.toLowerCase(),
    command: c.command,
    text: c.text,
    api_app_id: identity.bot.appId,
    is_enterprise_install: "false",
    response_url: c.responseUrl,
    trigger_id: c.triggerId,
  };
}

/** The common head of interactive payloads (block_actions, view_submission, view_closed). */
export function interactiveHead(identity: Identity, type: string, user: string): Json {
  return {
    type,
    user: userObject(identity, user),
    api_app_id: identity.bot.appId,
    token: "fake-verification-token",
    team: { id: identity.team.id, domain: identity.team.domain },
    enterprise: null,
    is_enterprise_install: false,
  };
}

/** A `message` event with a subtype (message_changed, message_deleted, channel_join, bot_message...). */
export function subtypeEvent(subtype: string, channel: string, ts: string, fields: Json): Json {
  return { type: "message", subtype, ...fields, channel, ts, event_ts: ts, channel_type: channelTypeOf(channel) };
}
