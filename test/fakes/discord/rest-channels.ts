import { checkMessage } from "./limits.ts";
import { createBotMessage, editMessage } from "./messages.ts";
import type { FakeChannel, FakeMessage, Json } from "./protocol.ts";
import { bodyOf, RestError, type RestContext, type Route } from "./rest.ts";

/**
 * Channel routes: a channel, its messages (create with nonce/enforce_nonce, list, get, edit,
 * delete), typing, and opening DMs. Unknown channels answer 10003, channels the bot can't see
 * 50001 Missing Access, writes where it lacks permissions 50013, DMs to people who closed them
 * 50007.
 */

export function channelFor(ctx: RestContext, id: string, use: "read" | "write"): FakeChannel {
  const channel = ctx.store.channels.get(id);
  if (!channel) throw new RestError(10003);
  const a = ctx.access;
  if (a.missingAccess.has(id)) throw new RestError(50001);
  if (use === "write" && a.missingPermissions.has(id)) throw new RestError(50013);
  if (use === "write" && channel.type === 1 && a.dmsClosed.has(channel.recipientId ?? "")) throw new RestError(50007);
  return channel;
}

function messageIn(ctx: RestContext, channel: FakeChannel, id: string): FakeMessage {
  const message = ctx.store.messages.get(id);
  if (!message || message.channelId !== channel.id || message.deleted || message.ephemeralTo !== undefined) throw new RestError(10008);
  return message;
}

const api = (ctx: RestContext, m: FakeMessage) => ({ status: 200, body: ctx.store.apiMessage(m) });

export const channelRoutes: Route[] = [
  {
    method: "GET", template: "/channels/:channel", spec: "GET /channels/{channel_id}", auth: "bot",
    handler: (ctx, req) => ({ status: 200, body: ctx.store.apiChannel(channelFor(ctx, req.params.channel!, "read")) }),
  },
  {
    method: "POST", template: "/channels/:channel/messages", spec: "POST /channels/{channel_id}/messages", auth: "bot",
    limits: (body) => checkMessage(body as Json, "create"),
    handler: (ctx, req) => {
      const channel = channelFor(ctx, req.params.channel!, "write");
      const body = bodyOf(req);
      const nonce = body.nonce;
      const key = `${channel.id} ${ctx.identity.bot.id} ${String(nonce)}`;
      if (body.enforce_nonce === true && nonce !== undefined && nonce !== null) {
        const earlier = ctx.store.nonces.get(key);
        if (earlier && Date.now() - earlier.at < ctx.options.nonceWindowMs) return api(ctx, ctx.store.messages.get(earlier.messageId)!);
      }
      const message = createBotMessage(ctx, channel, body);
      if (nonce !== undefined && nonce !== null) ctx.store.nonces.set(key, { messageId: message.id, at: Date.now() });
      return api(ctx, message);
    },
  },
  {
    method: "GET", template: "/channels/:channel/messages", spec: "GET /channels/{channel_id}/messages", auth: "bot",
    handler: (ctx, req) => {
      const channel = channelFor(ctx, req.params.channel!, "read");
      const { before, after, around } = req.query;
      const limit = req.query.limit !== undefined ? Math.min(100, Math.max(1, Number(req.query.limit) || 50)) : 50;
      const page = ctx.store.page(channel.id, { limit, ...(before ? { before } : {}), ...(after ? { after } : {}), ...(around ? { around } : {}) });
      return { status: 200, body: page.map((m) => ctx.store.apiMessage(m)) };
    },
  },
  {
    method: "GET", template: "/channels/:channel/messages/:message", spec: "GET /channels/{channel_id}/messages/{message_id}", auth: "bot",
    handler: (ctx, req) => api(ctx, messageIn(ctx, channelFor(ctx, req.params.channel!, "read"), req.params.message!)),
  },
  {
    method: "PATCH", template: "/channels/:channel/messages/:message", spec: "PATCH /channels/{channel_id}/messages/{message_id}", auth: "bot",
    limits: (body) => checkMessage(body as Json, "edit"),
    handler: (ctx, req) => {
      const channel = channelFor(ctx, req.params.channel!, "read");
      const message = messageIn(ctx, channel, req.params.message!);
      if (message.author.id !== ctx.identity.bot.id) throw new RestError(50005);
      return api(ctx, editMessage(ctx, message, bodyOf(req)));
    },
  },
  {
    method: "DELETE", template: "/channels/:channel/messages/:message", spec: "DELETE /channels/{channel_id}/messages/{message_id}", auth: "bot",
    handler: (ctx, req) => {
      const channel = channelFor(ctx, req.params.channel!, "read");
      const message = messageIn(ctx, channel, req.params.message!);
      if (message.author.id !== ctx.identity.bot.id) channelFor(ctx, channel.id, "write");
      message.deleted = true;
      return { status: 204 };
    },
  },
  {
    method: "POST", template: "/channels/:channel/typing", spec: "POST /channels/{channel_id}/typing", auth: "bot",
    handler: (ctx, req) => {
      channelFor(ctx, req.params.channel!, "write");
      return { status: 204 };
    },
  },
  {
    method: "POST", template: "/users/@me/channels", spec: "POST /users/@me/channels", auth: "bot",
    handler: (ctx, req) => {
      const recipient = bodyOf(req).recipient_id;
      if (typeof recipient !== "string") throw new RestError(50035, { errors: { recipient_id: { _errors: [{ code: "BASE_TYPE_REQUIRED", message: "This field is required" }] } } });
      if (recipient === ctx.identity.bot.id) throw new RestError(50007);
      return { status: 200, body: ctx.store.apiChannel(ctx.store.dmChannel(recipient)) };
    },
  },
];
