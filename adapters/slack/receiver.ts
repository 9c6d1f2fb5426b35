import type { App } from "@slack/bolt";
import type { CommandInfo, InboundHandler, NoticeOptions } from "../../src/port/index.ts";
import { Handoff } from "../../src/port/index.ts";
import type { Logger } from "../../src/logger.ts";
import type { InboundEvent } from "../../src/model.ts";
import type { ActionValues } from "./action-values.ts";
import { fromMessageEvent, type SlackIdentity } from "./inbound.ts";
import { EDIT_VIEW_ID, editView, fromBlockActions, fromEditSubmission, fromSlashCommand, type Press } from "./interactive.ts";
import type { SlackOutbound } from "./outbound.ts";
import { repliesPrivately, type CommandInFlight, type CommandReplies, type ResponseUrlMessage } from "./private-replies.ts";
import { ACTION_PREFIX } from "./render.ts";
import type { ThreadMembership } from "./threads.ts";

/** Slack wants an answer within 3 s: an acknowledgement goes out by then even if the engine is slow. */
const ACK_WITHIN_MS = 2000;
const EXPIRED = "This question has expired: its task no longer exists.";
/** How many recent event ids are remembered, to hand a mention's twin events over once. */
const RECENT_EVENTS = 1000;

/** Which conversations are chatflow's when it shares a Bolt app (plugin mode). */
export interface SlackConversationRef {
  channel: string;
  /** The thread, for a channel message. */
  thread?: string;
  /** A direct message with the bot. */
  direct: boolean;
}
export type OwnsConversation = (where: SlackConversationRef) => boolean;

export interface ReceiverOptions {
  outbound: SlackOutbound;
  values: ActionValues;
  threads: ThreadMembership;
  /** Which slash command the engine's replies answer (the private ones go to that person alone). */
  replies: CommandReplies;
  log: Logger;
  /** The slash command carrying the engine's commands, e.g. `/chatflow`. */
  command: string;
  /** Whether routed workflow commands are slash commands of their own. */
  workflowCommands: boolean;
  /** Plugin mode: the conversations whose messages are chatflow's; standalone: all. */
  owns?: OwnsConversation;
}

/**
 * Bolt's listeners for chatflow: messages and mentions, slash commands, button presses and
 * the Edit modal, normalized into the engine's events. Every slash command, press and
 * submission is acknowledged within Slack's 3 seconds (after the engine recorded it, or at
 * 2 s, whichever is first; a command answered privately at once); events are acknowledged by
 * Bolt before the listeners run.
 */
export class SlackReceiver {
  readonly #o: ReceiverOptions;
  readonly #handoff: Handoff;
  #me: SlackIdentity | undefined;
  /** Slash command names (without `/`) chatflow takes besides its own command. */
  #workflowCommands = new Set<string>();
  /** The engine's command names: an answer to any other is private (a pointer to help). */
  #known = new Set<string>();
  /** Ids of the messages handed over lately: Slack sends a mention as `message` and `app_mention`. */
  readonly #recent = new Set<string>();

  constructor(options: ReceiverOptions) {
    this.#o = options;
    this.#handoff = new Handoff(options.log);
  }

  /** Starts handing events to `handler`; `commands`: the engine's (empty when started without it). */
  open(handler: InboundHandler, me: SlackIdentity, commands: readonly CommandInfo[]): void {
    this.#handoff.start(handler);
    this.#me = me;
    this.#workflowCommands = new Set(this.#o.workflowCommands ? commands.filter((c) => c.kind === "workflow").map((c) => c.name) : []);
    this.#known = new Set(commands.map((c) => c.name));
  }

  /** Stops handing events over; resolves when the ones in flight are handed. */
  close(): Promise<void> {
    return this.#handoff.close();
  }

  /** Adds chatflow's listeners to a Bolt app (its own, or the host's in plugin mode). */
  listen(app: App, plugin: boolean): void {
    // One listener for both kinds: each listener costs every event a pass through Bolt's middleware.
    app.event(/^(message|app_mention)$/, async ({ event }) => this.#message(event));
    app.command(/^\/.+/, async ({ command, ack, respond }) => {
      const name = command.command.toLowerCase();
      const ours = name === this.#o.command || this.#workflowCommands.has(name.slice(1));
      if (!ours) {
        // Another app's command (plugin mode) is not ours to answer; on our own app, say so.
        if (!plugin) await ack({ response_type: "ephemeral", text: `${command.command} is not a chatflow command here. Try ${this.#o.command} help.` });
        return;
      }
      await this.#slash(command, ack, (message) => respond(message));
    });
    app.action(plugin ? new RegExp(`^${ACTION_PREFIX}:`) : /.*/, async ({ body, ack }) => this.#press(body, ack));
    app.view(EDIT_VIEW_ID, async ({ body, ack }) => this.#submitEdit(body, ack));
  }

  /** A notice only the event's person sees: on a slash command's response_url, else chat.postEphemeral in the event's thread. */
  async notify(event: InboundEvent, text: string, _options: NoticeOptions = {}): Promise<boolean> {
    try {
      await this.#o.outbound.ephemeral(event.address, text, this.#o.replies.of(event));
      return true;
    } catch (error) {
      this.#o.log.debug({ err: error }, "chat.postEphemeral failed; the engine replies in the conversation");
      return false;
    }
  }

  async #message(raw: unknown): Promise<void> {
    const me = this.#me;
    if (!this.#handoff.open || !me) return;
    const inbound = fromMessageEvent(raw, me);
    if (inbound.type === "ignored") return void this.#o.log.debug({ reason: inbound.reason }, "slack event ignored");
    const { address } = inbound.event;
    const where = { channel: address.channel, direct: address.direct === true, ...(address.thread ? { thread: address.thread } : {}) };
    if (inbound.type === "thread-message") {
      // A reply in a thread: chatflow's when it takes part in that thread.
      if (!(await this.#o.threads.has(inbound.channel, inbound.thread, me))) return;
    } else {
      if (this.#o.owns && !this.#o.owns(where)) return;
      if (address.thread) this.#o.threads.join(address.channel, address.thread);
    }
    if (!this.#first(inbound.event.id)) return;
    await this.#hand(inbound.event);
  }

  async #slash(body: unknown, ack: (response?: never) => Promise<void>, respond: (message: ResponseUrlMessage) => Promise<unknown>): Promise<void> {
    const event = fromSlashCommand(body, this.#o.command);
    if ("ignored" in event) {
      await ack();
      return void this.#o.log.debug({ reason: event.ignored }, "slack slash command ignored");
    }
    const startsWork = this.#workflowCommands.has(event.name) && !event.address.direct;
    if (startsWork) {
      // A task started in a channel lives in a thread of its own, as a mention's does.
      await ack();
      try {
        const request = `/${event.name}${event.args ? ` ${event.args}` : ""}`;
        const root = await this.#o.outbound.send(event.address, { kind: "notice", text: `Request: ${request}` });
        event.address.thread = root.id;
        this.#o.threads.join(event.address.channel, root.id);
      } catch (error) {
        this.#o.log.warn({ err: error }, "could not open a thread for a slash command");
        await respond({ response_type: "ephemeral", replace_original: false, text: "I can't post in this channel: invite me first (/invite @chatflow)." }).catch(() => undefined);
        return;
      }
      await this.#hand(event);
      return;
    }
    const command: CommandInFlight = { event, private: repliesPrivately(event.name, event.args, this.#known), respond };
    const handled = () => this.#o.replies.run(command, () => this.#hand(event));
    if (command.private) {
      // Its answer comes on the response_url, after the acknowledgement as Slack expects. It
      // only reads: a crash before the engine recorded it loses nothing the person needs.
      await ack();
      return void (await handled());
    }
    await this.#ackAfter(ack, handled());
  }

  async #press(body: unknown, ack: () => Promise<void>): Promise<void> {
    const press = fromBlockActions(body);
    if ("ignored" in press) return void (await ack());
    if (!press.actionId.startsWith(`${ACTION_PREFIX}:`)) return void (await ack()); // not a chatflow button
    const actionId = this.#o.values.decode(press.value);
    if (actionId === undefined) {
      await ack();
      await this.notify(press.event, EXPIRED);
      return;
    }
    press.event.actionId = actionId;
    if (press.actionId.startsWith(`${ACTION_PREFIX}:edit:`) && press.triggerId) {
      await ack();
      await this.#openEdit(press);
      return;
    }
    await this.#ackAfter(ack, this.#hand(press.event));
  }

  /** Edit opens a modal with the draft (the trigger lives 3 s); its submission is the answer. */
  async #openEdit(press: Press): Promise<void> {
    const { address } = press.event;
    const draft = (press.messageTs && this.#o.outbound.drafts.get(press.messageTs)) || "";
    const context = { value: press.value, channel: address.channel, ...(address.thread ? { thread: address.thread } : {}), ...(press.messageTs ? { messageTs: press.messageTs } : {}) };
    try {
      await this.#o.outbound.openView(press.triggerId!, editView(context, draft));
    } catch (error) {
      // No modal (an expired trigger): ask for the corrected text in the conversation instead.
      this.#o.log.warn({ err: error }, "views.open failed; asking for the edit as a message");
      await this.#hand(press.event);
    }
  }

  async #submitEdit(body: unknown, ack: () => Promise<void>): Promise<void> {
    const submitted = fromEditSubmission(body);
    if ("ignored" in submitted) return void (await ack());
    const { press, user } = submitted;
    const actionId = this.#o.values.decode(press.value);
    const address = { platform: "slack", channel: press.channel, user, ...(press.thread ? { thread: press.thread } : {}), ...(press.channel.startsWith("D") ? { direct: true } : {}) };
    const event: InboundEvent = { kind: "action", id: `view:${submitted.viewId}`, address, raw: body, actionId: actionId ?? "", text: submitted.text, ...(submitted.feedback ? { feedback: submitted.feedback } : {}) };
    await ack();
    if (actionId === undefined) return void (await this.notify(event, EXPIRED));
    await this.#hand(event);
  }

  /** Whether this event id is new (the engine would take a repeat once anyway; this spares it the work). */
  #first(id: string): boolean {
    if (this.#recent.has(id)) return false;
    this.#recent.add(id);
    if (this.#recent.size > RECENT_EVENTS) this.#recent.delete(this.#recent.values().next().value!);
    return true;
  }

  async #ackAfter(ack: () => Promise<void>, work: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ACK_WITHIN_MS)))]);
    clearTimeout(timer);
    await ack();
    await work;
  }

  #hand(event: InboundEvent): Promise<void> {
    return this.#handoff.hand(event);
  }

}
