import type { Context, MiddlewareFn } from "grammy";
import type { InboundHandler, NoticeOptions } from "../../src/port/index.ts";
import type { Logger } from "../../src/logger.ts";
import type { InboundEvent } from "../../src/model.ts";
import type { CallbackData } from "./callback-data.ts";
import { toInbound, type BotIdentity, type Inbound } from "./inbound.ts";
import type { TelegramOutbound } from "./outbound.ts";
import { UpdateRefused } from "./webhook.ts";

/** A button's spinner runs until the callback is answered: answer it at the latest after this, in ms. */
const CALLBACK_ANSWER_WITHIN_MS = 2000;
/** Telegram's limit on a callback answer's text. */
const CALLBACK_TEXT_MAX = 200;
const EXPIRED_BUTTON = "This button has expired. Send /status to see where the task is.";

export interface ReceiverOptions {
  outbound: TelegramOutbound;
  keys: CallbackData;
  log: Logger;
  /** Webhook mode: an update arriving while stopping is refused (503), so Telegram sends it again. */
  refuseWhileStopping: boolean;
  /**
   * Plugin mode: whether an update is chatflow's. Updates it declines go to the host bot's
   * next middleware. Without it (chatflow owns the bot) every update is chatflow's.
   */
  claims?: (inbound: Inbound, update: unknown) => boolean;
}

/** A pressed button whose callback query is not answered yet. */
interface PendingCallback {
  queryId: string;
  answered: boolean;
}

/**
 * Turns grammY updates into the engine's events: normalizes them (inbound.ts), maps button
 * ids back (callback-data.ts), answers callback queries (with the engine's private notice when
 * there is one), and keeps count of updates in flight so `drain()` can wait for them.
 */
export class TelegramReceiver {
  readonly #o: ReceiverOptions;
  #handler: InboundHandler | undefined;
  #me: BotIdentity | undefined;
  /** Set by stop: updates not yet taken stay unconfirmed, so Telegram delivers them again. */
  #stopping = false;
  #inflight = 0;
  #drained: (() => void) | undefined;
  /** Callback queries of button presses the engine is handling, by event id (for `notify`). */
  readonly #callbacks = new Map<string, PendingCallback>();

  constructor(options: ReceiverOptions) {
    this.#o = options;
  }

  /** Starts handing updates to `handler`, as `me`. */
  open(handler: InboundHandler, me: BotIdentity): void {
    this.#handler = handler;
    this.#me = me;
    this.#stopping = false;
  }

  /** Stops taking updates; resolves once the updates in flight are handed over. */
  async close(): Promise<void> {
    this.#stopping = true;
    if (this.#inflight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    this.#drained = undefined;
    this.#handler = undefined;
  }

  /** Marks the receiver as stopping before the transport is stopped. */
  beginStop(): void {
    this.#stopping = true;
  }

  /** The grammY middleware: chatflow's updates go to the engine, the others to `next`. */
  middleware(): MiddlewareFn<Context> {
    return async (ctx, next) => {
      if (this.#stopping && this.#o.refuseWhileStopping) throw new UpdateRefused();
      this.#inflight++;
      let handled: boolean;
      try {
        handled = await this.#route(ctx.update);
      } finally {
        if (--this.#inflight === 0) this.#drained?.();
      }
      if (!handled) await next();
    };
  }

  /**
   * The private notice for a button press: the text as the callback's answer (an alert for
   * refusals). False for anything else, or once the press was answered: the engine then
   * replies in the chat.
   */
  async notify(event: InboundEvent, text: string, options: NoticeOptions = {}): Promise<boolean> {
    const pending = this.#callbacks.get(event.id);
    if (!pending || pending.answered) return false;
    pending.answered = true;
    const shown = text.length > CALLBACK_TEXT_MAX ? `${text.slice(0, CALLBACK_TEXT_MAX - 1)}…` : text;
    await this.#o.outbound.answerCallback(pending.queryId, shown, options.alert === true);
    return true;
  }

  /** Whether the update was chatflow's (handled here, never thrown). */
  async #route(update: unknown): Promise<boolean> {
    const handler = this.#handler;
    const me = this.#me;
    if (!handler || !me) return false;
    const inbound = toInbound(update, me);
    // Sharing the bot: what chatflow would ignore, or does not own, is the host bot's.
    if (this.#o.claims && (inbound.type === "ignored" || !this.#o.claims(inbound, update))) return false;
    if (this.#stopping) return true;
    if (inbound.type === "ignored") {
      this.#o.log.debug({ updateId: updateIdOf(update), reason: inbound.reason }, "telegram update ignored");
      return true;
    }
    if (inbound.type === "answer-only") {
      this.#o.log.debug({ updateId: updateIdOf(update), reason: inbound.reason }, "telegram button press not handed over");
      await this.#answer(inbound.callbackQueryId);
      return true;
    }
    const { event, callbackQueryId } = inbound;
    if (callbackQueryId === undefined || event.kind !== "action") {
      await this.#hand(handler, event);
      return true;
    }
    const actionId = this.#o.keys.decode(event.actionId);
    if (actionId === undefined) {
      await this.#answer(callbackQueryId, EXPIRED_BUTTON);
      return true;
    }
    event.actionId = actionId;
    await this.#handPress(handler, event, callbackQueryId);
    return true;
  }

  /**
   * A button press: the engine may answer it privately (`notify`); otherwise, or if the engine
   * takes long, the spinner is stopped with an empty answer.
   */
  async #handPress(handler: InboundHandler, event: InboundEvent, queryId: string): Promise<void> {
    const pending: PendingCallback = { queryId, answered: false };
    this.#callbacks.set(event.id, pending);
    const stopSpinner = () => {
      if (pending.answered) return Promise.resolve();
      pending.answered = true;
      return this.#answer(queryId);
    };
    const timer = setTimeout(() => void stopSpinner(), CALLBACK_ANSWER_WITHIN_MS);
    timer.unref();
    try {
      await this.#hand(handler, event);
    } finally {
      clearTimeout(timer);
      this.#callbacks.delete(event.id);
      await stopSpinner();
    }
  }

  async #hand(handler: InboundHandler, event: InboundEvent): Promise<void> {
    try {
      await handler(event);
    } catch (error) {
      this.#o.log.error({ err: error, updateId: event.id }, "inbound handler failed");
    }
  }

  async #answer(queryId: string, text?: string): Promise<void> {
    await this.#o.outbound.answerCallback(queryId, text).catch((error: unknown) => this.#o.log.debug({ err: error }, "answerCallbackQuery failed"));
  }
}

function updateIdOf(update: unknown): unknown {
  return (update as { update_id?: unknown } | null)?.update_id;
}
