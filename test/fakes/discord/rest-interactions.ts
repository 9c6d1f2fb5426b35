import type { FakeInteraction } from "./interactions.ts";
import { checkMessage, checkModal, FLAGS, withIds } from "./limits.ts";
import { createBotMessage, editMessage } from "./messages.ts";
import type { FakeMessage, Json } from "./protocol.ts";
import { bodyOf, RestError, type RestContext, type RestRequest, type Route } from "./rest.ts";

/**
 * Interaction routes (no Authorization): the callback (types 4, 5, 6, 7, 9; once, within the
 * deadline from when the person acted: later → 10062 Unknown interaction, again → 40060), and
 * the interaction's webhook: `@original`, follow-ups (`flags: 64` → seen only by the person),
 * edits and deletes, for the token's lifetime (15 min; then 50027 Invalid Webhook Token).
 */

/** Callback types each interaction type takes: 2 command, 3 component, 5 modal submit (6, 7 only for a modal opened from a button). */
const ALLOWED: Record<number, number[]> = { 2: [4, 5, 9], 3: [4, 5, 6, 7, 9], 5: [4, 5, 6, 7] };

const ephemeral = (data: Json, userId: string) => (typeof data.flags === "number" && (data.flags & FLAGS.EPHEMERAL) !== 0 ? { ephemeralTo: userId } : {});

function callback(ctx: RestContext, req: RestRequest) {
  const interaction = ctx.store.interactions.get(req.params.id!);
  if (!interaction || interaction.token !== req.params.token) throw new RestError(10062);
  const body = bodyOf(req);
  const type = body.type as number;
  const data = (body.data ?? {}) as Json;
  const since = Date.now() - interaction.createdAt;
  if (interaction.responseType !== undefined) {
    ctx.violation(`interaction ${interaction.id}: a second callback (type ${type}) after type ${interaction.responseType} → 40060`);
    throw new RestError(40060);
  }
  if (since > ctx.options.interactionDeadlineMs) {
    ctx.violation(`interaction ${interaction.id}: callback type ${type} ${since} ms after the person acted (the deadline is ${ctx.options.interactionDeadlineMs} ms) → 10062`);
    throw new RestError(10062);
  }
  if (!ALLOWED[interaction.type]?.includes(type) || (interaction.type === 5 && (type === 6 || type === 7) && !interaction.messageId)) {
    ctx.violation(`interaction ${interaction.id}: callback type ${type} is not valid for interaction type ${interaction.type}`);
    throw new RestError(50035, { errors: { type: { _errors: [{ code: "INTERACTION_CALLBACK_TYPE_INVALID", message: `Callback type ${type} is not valid for this interaction.` }] } } });
  }
  const channel = ctx.store.channels.get(interaction.channelId)!;
  const own = { interactionId: interaction.id, webhook: true, type: interaction.type === 2 ? 20 : 0 };
  let message: FakeMessage | undefined;
  if (type === 4) message = createBotMessage(ctx, channel, data, { ...own, ...ephemeral(data, interaction.userId) });
  if (type === 5) message = createBotMessage(ctx, channel, { flags: Number(data.flags ?? 0) & FLAGS.EPHEMERAL }, { ...own, flags: FLAGS.LOADING, allowEmpty: true, ...ephemeral(data, interaction.userId) });
  if (type === 6 || type === 7) message = ctx.store.messages.get(interaction.messageId!);
  if (type === 7 && message) editMessage(ctx, message, data);
  if (type === 9) {
    const modal = {
      interactionId: interaction.id, userId: interaction.userId, channelId: interaction.channelId, customId: String(data.custom_id), title: String(data.title),
      components: withIds((data.components ?? []) as Json[]), openedAt: Date.now(), submissions: [],
      ...(interaction.guildId ? { guildId: interaction.guildId } : {}), ...(interaction.messageId ? { messageId: interaction.messageId } : {}),
    };
    interaction.modal = modal;
    ctx.store.modals.push(modal);
  }
  interaction.responseType = type;
  if (message) interaction.originalId = message.id;
  if (req.query.with_response !== "true") return { status: 204 };
  return {
    status: 200,
    body: {
      interaction: {
        id: interaction.id, type: interaction.type, activity_instance_id: null, channel_id: interaction.channelId, ...(interaction.guildId ? { guild_id: interaction.guildId } : {}),
        ...(message ? { response_message_id: message.id, response_message_loading: type === 5, response_message_ephemeral: message.ephemeralTo !== undefined } : {}),
      },
      ...((type === 4 || type === 7) && message ? { resource: { type, message: ctx.store.apiMessage(message) } } : {}),
    },
  };
}

/** The interaction a webhook route names by its token (10015 for another application, 50027 for an unknown or expired token). */
function interactionOf(ctx: RestContext, req: RestRequest): FakeInteraction {
  if (req.params.app !== ctx.identity.application.id) throw new RestError(10015);
  const interaction = ctx.store.interactions.get(ctx.store.tokens.get(req.params.token!) ?? "");
  if (!interaction || Date.now() - interaction.createdAt > ctx.options.tokenLifetimeMs) throw new RestError(50027);
  return interaction;
}

/** `@original` or a follow-up of the interaction (10008 for anything else, or before the interaction was answered). */
function webhookMessage(ctx: RestContext, req: RestRequest): FakeMessage {
  const interaction = interactionOf(ctx, req);
  const id = req.params.message ?? interaction.originalId;
  const message = id !== undefined && (id === interaction.originalId || interaction.followups.includes(id)) ? ctx.store.messages.get(id) : undefined;
  if (!message || message.deleted) throw new RestError(10008);
  return message;
}

const api = (ctx: RestContext, m: FakeMessage) => ({ status: 200, body: ctx.store.apiMessage(m) });
const edit = (ctx: RestContext, req: RestRequest) => api(ctx, editMessage(ctx, webhookMessage(ctx, req), bodyOf(req)));
const remove = (ctx: RestContext, req: RestRequest) => {
  webhookMessage(ctx, req).deleted = true;
  return { status: 204 };
};

const CALLBACK_LIMITS = (body: unknown) => {
  const b = (body ?? {}) as Json;
  const data = (b.data ?? {}) as Json;
  if (b.type === 4) return checkMessage(data, "reply", "data");
  if (b.type === 7) return checkMessage(data, "edit", "data");
  if (b.type === 9) return checkModal(data);
  return [];
};

const ORIGINAL = "/webhooks/:app/:token/messages/@original";
const SPEC_ORIGINAL = "/webhooks/{webhook_id}/{webhook_token}/messages/@original";
const MESSAGE = "/webhooks/:app/:token/messages/:message";
const SPEC_MESSAGE = "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}";

export const interactionRoutes: Route[] = [
  { method: "POST", template: "/interactions/:id/:token/callback", spec: "POST /interactions/{interaction_id}/{interaction_token}/callback", auth: "none", limits: CALLBACK_LIMITS, handler: callback },
  {
    method: "POST", template: "/webhooks/:app/:token", spec: "POST /webhooks/{webhook_id}/{webhook_token}", auth: "none",
    limits: (body) => checkMessage(body as Json, "reply"),
    handler: (ctx, req) => {
      const interaction = interactionOf(ctx, req);
      if (interaction.responseType === undefined) {
        ctx.violation(`interaction ${interaction.id}: a follow-up before the interaction was answered → 10015`);
        throw new RestError(10015);
      }
      const body = bodyOf(req);
      const message = createBotMessage(ctx, ctx.store.channels.get(interaction.channelId)!, body, { interactionId: interaction.id, webhook: true, ...ephemeral(body, interaction.userId) });
      interaction.followups.push(message.id);
      return req.query.wait === "true" ? api(ctx, message) : { status: 204 };
    },
  },
  { method: "GET", template: ORIGINAL, spec: `GET ${SPEC_ORIGINAL}`, auth: "none", handler: (ctx, req) => api(ctx, webhookMessage(ctx, req)) },
  { method: "PATCH", template: ORIGINAL, spec: `PATCH ${SPEC_ORIGINAL}`, auth: "none", limits: (body) => checkMessage(body as Json, "edit"), handler: edit },
  { method: "DELETE", template: ORIGINAL, spec: `DELETE ${SPEC_ORIGINAL}`, auth: "none", handler: remove },
  { method: "GET", template: MESSAGE, spec: `GET ${SPEC_MESSAGE}`, auth: "none", handler: (ctx, req) => api(ctx, webhookMessage(ctx, req)) },
  { method: "PATCH", template: MESSAGE, spec: `PATCH ${SPEC_MESSAGE}`, auth: "none", limits: (body) => checkMessage(body as Json, "edit"), handler: edit },
  { method: "DELETE", template: MESSAGE, spec: `DELETE ${SPEC_MESSAGE}`, auth: "none", handler: remove },
];
