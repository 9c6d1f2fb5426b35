import type { Api } from "grammy";
import { NotFoundError } from "../../src/errors.ts";
import type { Address, OutboundMessage, SentMessage } from "../../src/model.ts";
import type { CallbackData } from "./callback-data.ts";
import { withDeadline, type ApiSignal } from "./client.ts";
import { isNotModified } from "./errors.ts";
import { renderEdit, renderMessage } from "./render.ts";

/** The typing indicator lasts 5 s on Telegram: a later one is useless, so give up sooner. */
const TYPING_DEADLINE_SECONDS = 10;

export interface OutboundOptions {
  /** The sending Api, with retries and pacing. */
  api: Api;
  token: string;
  keys: CallbackData;
  /** Deadline of one call, retries included, in s. */
  callTimeoutSeconds: number;
}

/** A chat id as the API takes it: a number, or `@channelusername`. */
export function chatIdOf(channel: string): number | string {
  return /^-?\d+$/.test(channel) ? Number(channel) : channel;
}

function threadOf(address: Address): { message_thread_id?: number } {
  return address.thread && /^\d+$/.test(address.thread) ? { message_thread_id: Number(address.thread) } : {};
}

/** Posts, edits and the typing indicator, in Telegram HTML; failures as chatflow errors. */
export class TelegramOutbound {
  readonly #o: OutboundOptions;

  constructor(options: OutboundOptions) {
    this.#o = options;
  }

  /**
   * Posts a message; text over 4,096 characters goes out as several messages, the buttons
   * (or the reply prompt) on the last. Returns the id of the last part: the one with the
   * buttons, which the engine edits once a question is answered.
   */
  async send(address: Address, message: OutboundMessage): Promise<SentMessage> {
    const chat = chatIdOf(address.channel);
    const { parts, markup } = renderMessage(message, (id) => this.#o.keys.encode(id));
    let last = "";
    for (const [index, text] of parts.entries()) {
      const withMarkup = index === parts.length - 1 && markup ? { reply_markup: markup } : {};
      const sent = await this.#call("sendMessage", chat, (signal) =>
        this.#o.api.sendMessage(chat, text, { parse_mode: "HTML", link_preview_options: { is_disabled: true }, ...threadOf(address), ...withMarkup }, signal),
      );
      last = String(sent.message_id);
    }
    return { id: last };
  }

  /**
   * Edits a message in place (editMessageText). The keyboard follows the new message's
   * actions: none removes it. Telegram's "message is not modified" is not an error here.
   */
  async edit(address: Address, messageId: string, message: OutboundMessage): Promise<void> {
    if (!/^\d+$/.test(messageId)) throw new NotFoundError(`"${messageId}" is not a Telegram message id.`);
    const chat = chatIdOf(address.channel);
    const { html, markup } = renderEdit(message, (id) => this.#o.keys.encode(id));
    await this.#call("editMessageText", chat, (signal) =>
      this.#o.api
        .editMessageText(chat, Number(messageId), html, { parse_mode: "HTML", link_preview_options: { is_disabled: true }, reply_markup: markup }, signal)
        .catch((error: unknown) => {
          if (isNotModified(error)) return true;
          throw error;
        }),
    );
  }

  /** Shows "typing…" for about 5 s (sendChatAction). */
  async typing(address: Address): Promise<void> {
    const chat = chatIdOf(address.channel);
    await this.#call("sendChatAction", chat, (signal) => this.#o.api.sendChatAction(chat, "typing", threadOf(address), signal), TYPING_DEADLINE_SECONDS);
  }

  /** Stops a button's spinner (answerCallbackQuery), with an optional notice (`alert`: one the person must dismiss). */
  async answerCallback(queryId: string, text?: string, alert = false): Promise<void> {
    const options = text ? { text, ...(alert ? { show_alert: true } : {}) } : {};
    await this.#call("answerCallbackQuery", undefined, (signal) => this.#o.api.answerCallbackQuery(queryId, options, signal), TYPING_DEADLINE_SECONDS);
  }

  #call<T>(method: string, chat: string | number | undefined, run: (signal: ApiSignal) => Promise<T>, seconds = this.#o.callTimeoutSeconds): Promise<T> {
    return withDeadline(run, { method, token: this.#o.token, seconds: Math.min(seconds, this.#o.callTimeoutSeconds), ...(chat !== undefined ? { chat } : {}) });
  }
}
