import { appMentionEvent, channelTypeOf, eventCallback, interactiveHead, messageEvent, slashCommandPayload, subtypeEvent, type TypedMessage } from "./events.ts";
import { nextTs, type FakeMessage, type Json, type SentEnvelope } from "./protocol.ts";
import type { SocketMode } from "./socket-mode.ts";
import type { Identity, Store } from "./store.ts";
import { stateValues } from "./view-state.ts";
import { viewWire } from "./views.ts";

/** What people do in the fake workspace, delivered to the app as Slack would deliver it. */

/** Ids of what a person's message produced: its ts, and one event (and envelope) per delivery. */
export interface Delivered {
  ts: string;
  /** event_ids, in delivery order (a mention: the `message` event, then `app_mention`). */
  eventIds: string[];
  envelopeIds: string[];
}

/** Ids of an interaction: its envelope, the trigger_id (for views.open) and the response_url. */
export interface Interaction {
  envelopeId: string;
  triggerId: string;
  responseUrl: string;
}

export interface MessageOptions {
  channel: string;
  user: string;
  text: string;
  /** Post as a reply in this thread. */
  threadTs?: string;
  /** Default from the channel id: D… `im`, G… `group`, else `channel`. */
  channelType?: "channel" | "group" | "im" | "mpim";
}

export interface PressOptions {
  user: string;
  /** The button's text, or its action_id. */
  label?: string;
  actionId?: string;
  /** A message's button: its channel and ts (an ephemeral of `user` is looked up too)... */
  channel?: string;
  ts?: string;
  /** ...or a button in an open modal. */
  viewId?: string;
}

export class People {
  readonly #identity: Identity;
  readonly #store: Store;
  readonly #delivery: SocketMode;
  readonly #origin: () => string;
  readonly #notInChannel: ReadonlySet<string>;
  /** Which response_url an envelope's ack answers (slash commands). */
  readonly ackTargets = new Map<string, string>();

  constructor(identity: Identity, store: Store, delivery: SocketMode, origin: () => string, notInChannel: ReadonlySet<string>) {
    this.#identity = identity;
    this.#notInChannel = notInChannel;
    this.#store = store;
    this.#delivery = delivery;
    this.#origin = origin;
  }

  #event(event: Json): { eventId: string; envelope: SentEnvelope } {
    const { payload, eventId } = eventCallback(this.#identity, event);
    return { eventId, envelope: this.#delivery.send("events_api", payload) };
  }

  /**
   * Stores a person's message and delivers `message` (and `app_mention` when it mentions the
   * bot outside a DM). In a channel of `notInChannel` nothing is delivered, as on Slack.
   */
  userMessage(o: MessageOptions): Delivered {
    const ts = nextTs();
    const parent = o.threadTs !== undefined ? this.#store.message(o.channel, o.threadTs) : undefined;
    this.#store.add({ channel: o.channel, ts, from: "user", user: o.user, text: o.text, edits: 0, reactions: new Map(), ...(o.threadTs !== undefined ? { threadTs: o.threadTs } : {}) });
    if (this.#notInChannel.has(o.channel)) return { ts, eventIds: [], envelopeIds: [] };
    const typed: TypedMessage = { ...o, ts, ...(parent?.user ? { parentUser: parent.user } : {}) };
    const clientMsgId = crypto.randomUUID();
    const sent = [this.#event(messageEvent(this.#identity, typed, clientMsgId))];
    const mentionsBot = o.text.includes(`<@${this.#identity.bot.userId}>`);
    if (mentionsBot && (o.channelType ?? channelTypeOf(o.channel)) !== "im") sent.push(this.#event(appMentionEvent(this.#identity, typed, clientMsgId)));
    return { ts, eventIds: sent.map((s) => s.eventId), envelopeIds: sent.map((s) => s.envelope.envelope_id) };
  }

  /** A channel message mentioning the bot (`<@BOTUSER>` is prepended unless the text has it): a `message` and an `app_mention` event, same ts. */
  mention(o: Omit<MessageOptions, "channelType">): Delivered {
    const tag = `<@${this.#identity.bot.userId}>`;
    return this.userMessage({ ...o, text: o.text.includes(tag) ? o.text : `${tag} ${o.text}` });
  }

  /** The person edits their message: a `message_changed` event. */
  editMessage(o: { channel: string; ts: string; text: string }): Delivered {
    const message = this.#need(o.channel, o.ts);
    const previous = { type: "message", user: message.user, text: message.text, ts: message.ts, ...(message.threadTs ? { thread_ts: message.threadTs } : {}) };
    message.text = o.text;
    message.edits++;
    const eventTs = nextTs();
    const { eventId, envelope } = this.#event(
      subtypeEvent("message_changed", o.channel, eventTs, { hidden: true, message: { ...previous, text: o.text, edited: { user: message.user, ts: eventTs } }, previous_message: previous }),
    );
    return { ts: eventTs, eventIds: [eventId], envelopeIds: [envelope.envelope_id] };
  }

  /** The person deletes their message: a `message_deleted` event. */
  deleteMessage(o: { channel: string; ts: string }): Delivered {
    const message = this.#need(o.channel, o.ts);
    message.deleted = true;
    const eventTs = nextTs();
    const { eventId, envelope } = this.#event(subtypeEvent("message_deleted", o.channel, eventTs, { hidden: true, deleted_ts: o.ts, previous_message: { type: "message", user: message.user, text: message.text, ts: o.ts } }));
    return { ts: eventTs, eventIds: [eventId], envelopeIds: [envelope.envelope_id] };
  }

  /** A person joins a channel: a `channel_join` message event. */
  channelJoin(o: { channel: string; user: string }): Delivered {
    const ts = nextTs();
    const text = `<@${o.user}> has joined the channel`;
    this.#store.add({ channel: o.channel, ts, from: "user", user: o.user, text, edits: 0, reactions: new Map() });
    const { eventId, envelope } = this.#event(subtypeEvent("channel_join", o.channel, ts, { user: o.user, text, team: this.#identity.team.id }));
    return { ts, eventIds: [eventId], envelopeIds: [envelope.envelope_id] };
  }

  /**
   * A bot's message event: another app's (`subtype: "bot_message"`, its own bot_id), or with
   * `own: true` this app's own post echoed back (bot_id = the fake's bot, no subtype), as Slack
   * echoes them to apps subscribed to message events.
   */
  botMessage(o: { channel: string; text: string; threadTs?: string; botId?: string; own?: boolean }): Delivered {
    const ts = nextTs();
    const own = o.own === true;
    const botId = own ? this.#identity.bot.botId : (o.botId ?? "B0OTHERBOT");
    const stored: FakeMessage = { channel: o.channel, ts, from: own ? "bot" : "other-bot", botId, text: o.text, edits: 0, reactions: new Map(), ...(own ? { user: this.#identity.bot.userId } : {}), ...(o.threadTs ? { threadTs: o.threadTs } : {}) };
    this.#store.add(stored);
    const fields: Json = own
      ? { user: this.#identity.bot.userId, bot_id: botId, app_id: this.#identity.bot.appId, text: o.text, team: this.#identity.team.id, bot_profile: this.#store.botProfile(this.#identity) }
      : { bot_id: botId, username: "another bot", text: o.text };
    const event = own ? { type: "message", ...fields, ts, channel: o.channel, event_ts: ts, channel_type: channelTypeOf(o.channel) } : subtypeEvent("bot_message", o.channel, ts, fields);
    if (o.threadTs) event.thread_ts = o.threadTs;
    const { eventId, envelope } = this.#event(event);
    return { ts, eventIds: [eventId], envelopeIds: [envelope.envelope_id] };
  }

  /** A person runs a slash command: a `slash_commands` envelope with a fresh trigger_id and a response_url on the fake. */
  slashCommand(o: { command: string; text?: string; user: string; channel: string }): Interaction {
    const triggerId = this.#store.issueTrigger(o.user);
    const key = this.#store.issueResponseUrl({ user: o.user, channel: o.channel });
    const responseUrl = `${this.#origin()}/response/${key}`;
    const envelope = this.#delivery.send("slash_commands", slashCommandPayload(this.#identity, { command: o.command, text: o.text ?? "", user: o.user, channel: o.channel, responseUrl, triggerId }));
    this.ackTargets.set(envelope.envelope_id, key);
    return { envelopeId: envelope.envelope_id, triggerId, responseUrl };
  }

  /**
   * A person presses a button (by label or action_id) on a stored message, an ephemeral of
   * theirs, or an open modal: `block_actions` (a modal's has `view` and no response_url, so
   * `responseUrl` is "").
   */
  press(o: PressOptions): Interaction & { actionTs: string } {
    const where = o.viewId !== undefined ? `view ${o.viewId}` : `message ${o.ts} in ${o.channel}`;
    const view = o.viewId !== undefined ? this.#store.views.get(o.viewId) : undefined;
    const message = o.channel !== undefined && o.ts !== undefined ? this.#store.message(o.channel, o.ts) : undefined;
    const ephemeral = !message && o.ts !== undefined ? this.#store.ephemerals.find((e) => e.ts === o.ts && e.user === o.user && !e.deleted) : undefined;
    const blocks = (view?.open ? view.view.blocks : (message && !message.deleted ? message.blocks : ephemeral?.blocks)) as Json[] | undefined;
    if (!blocks) throw new Error(`The fake has no ${where} with blocks${view && !view.open ? " (the view is closed)" : ""}.`);
    const buttons = blocks.flatMap((b) => [...(Array.isArray(b.elements) && b.type === "actions" ? (b.elements as Json[]) : []), ...(b.accessory ? [b.accessory as Json] : [])].filter((e) => e.type === "button").map((e) => ({ block: b, button: e })));
    const found = buttons.find(({ button }) => (o.actionId !== undefined ? button.action_id === o.actionId : (button.text as Json | undefined)?.text === o.label));
    if (!found) throw new Error(`${where} has no button ${o.actionId ?? o.label}; it has ${buttons.map(({ button }) => `"${(button.text as Json).text}" (${String(button.action_id)})`).join(", ") || "none"}.`);
    const triggerId = this.#store.issueTrigger(o.user);
    const channel = o.channel ?? message?.channel ?? "";
    const key = this.#store.issueResponseUrl({ user: o.user, channel, ...(o.ts ? { message: { ts: o.ts, ephemeral: ephemeral !== undefined } } : {}), ...(message?.threadTs ? { threadTs: message.threadTs } : {}) });
    const actionTs = nextTs();
    const { button, block } = found;
    const action: Json = { action_id: button.action_id, block_id: block.block_id, text: button.text, ...(button.value !== undefined ? { value: button.value } : {}), ...(button.style ? { style: button.style } : {}), type: "button", action_ts: actionTs };
    const payload: Json = {
      ...interactiveHead(this.#identity, "block_actions", o.user),
      container: view ? { type: "view", view_id: view.id } : { type: "message", message_ts: o.ts, channel_id: channel, is_ephemeral: ephemeral !== undefined, ...(message?.threadTs ? { thread_ts: message.threadTs } : {}) },
      trigger_id: triggerId,
      ...(view ? { view: viewWire(view, this.#identity) } : { channel: { id: channel, name: channel.toLowerCase() } }),
      ...(message ? { message: this.#store.wire(message, this.#identity) } : {}),
      state: { values: {} },
      ...(view ? {} : { response_url: `${this.#origin()}/response/${key}` }),
      actions: [action],
    };
    const envelope = this.#delivery.send("interactive", payload);
    return { envelopeId: envelope.envelope_id, triggerId, responseUrl: view ? "" : `${this.#origin()}/response/${key}`, actionTs };
  }

  /**
   * A person submits an open modal with `values` keyed by block_id or action_id (a string, or
   * strings for multi-selects and checkboxes): a `view_submission` with state.values built from
   * the view's input blocks. Throws what Slack's client would refuse (a required input empty).
   */
  submitView(o: { viewId: string; user?: string; values?: Record<string, string | string[] | null> }): { envelopeId: string; triggerId: string; values: Json } {
    const view = this.#store.views.get(o.viewId);
    if (!view || !view.open) throw new Error(`The fake has no open view ${o.viewId}.`);
    const values = stateValues(view, o.values ?? {});
    const user = o.user ?? view.user;
    const triggerId = this.#store.issueTrigger(user);
    const payload = { ...interactiveHead(this.#identity, "view_submission", user), trigger_id: triggerId, view: viewWire(view, this.#identity, { values }), response_urls: [] };
    const envelope = this.#delivery.send("interactive", payload);
    return { envelopeId: envelope.envelope_id, triggerId, values };
  }

  /** A person closes a modal: `view_closed` when the view asked for notify_on_close (else only closed). */
  closeView(o: { viewId: string; user?: string }): string | undefined {
    const view = this.#store.views.get(o.viewId);
    if (!view || !view.open) throw new Error(`The fake has no open view ${o.viewId}.`);
    view.open = false;
    if (view.view.notify_on_close !== true) return undefined;
    const payload = { ...interactiveHead(this.#identity, "view_closed", o.user ?? view.user), view: viewWire(view, this.#identity), is_cleared: false };
    return this.#delivery.send("interactive", payload).envelope_id;
  }

  #need(channel: string, ts: string): FakeMessage {
    const message = this.#store.message(channel, ts);
    if (!message || message.deleted) throw new Error(`The fake has no message ${ts} in ${channel}.`);
    return message;
  }
}
