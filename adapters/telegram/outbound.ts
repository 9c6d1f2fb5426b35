import type { Api } from "grammy";
import { NotFoundError } from "../../src/errors.ts";
import type { Address, OutboundMessage, SentMessage } from "../../src/model.ts";
import type { CallbackData } from "./callback-data.ts";
import { withDeadline, type ApiSignal, type DeadlineContext } from "./client.ts";
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

/** The forum topic of an address, if it is one. */
function threadIdOf(address: Address): number | undefined {
  return address.thread && /^\d+$/.test(address.thread) ? Number(address.thread) : undefined;
}

function threadOf(address: Address): { message_thread_id?: number } {
  const thread = threadIdOf(address);
  return thread !== undefined ? { message_thread_id: thread } : {};
}

/** Every message goes out in HTML, without link previews. */
const NO_PREVIEW = { is_disabled: true } as const;
type SendOptions = NonNullable<Parameters<Api["sendMessage"]>[2]>;

/** Posts, edits and the typing indicator, in Telegram HTML; failures as chatflow errors. */
export class TelegramOutbound {
  readonly #o: OutboundOptions;
  readonly #encode: (actionId: string) => string;

  constructor(options: OutboundOptions) {
    this.#o = options;
    this.#encode = (id) => options.keys.encode(id);
  }

  /**
   * Posts a message; text over 4,096 characters goes out as several messages, the buttons
   * (or the reply prompt) on the last. Returns the id of the last part: the one with the
   * buttons, which the engine edits once a question is answered.
   */
  async send(address: Address, message: OutboundMessage): Promise<SentMessage> {
    const chat = chatIdOf(address.channel);
    const { parts, markup } = renderMessage(message, this.#encode);
    const thread = threadIdOf(address);
    let last = 0;
    for (let index = 0; index < parts.length; index++) {
      // Built field by field: this is the hot path of every reply.
      const options: SendOptions = { parse_mode: "HTML", link_preview_options: NO_PREVIEW };
      if (thread !== undefined) options.message_thread_id = thread;
      if (markup && index === parts.length - 1) options.reply_markup = markup;
      const text = parts[index]!;
      const sent = await this.#call("sendMessage", chat, (signal) => this.#o.api.sendMessage(chat, text, options, signal));
      last = sent.message_id;
    }
    return { id: String(last) };
  }

  /**
   * Edits a message in place (editMessageText). The keyboard follows the new message's
   * actions: none removes it. Telegram's "message is not modified" is not an error here.
   */
  async edit(address: Address, messageId: string, message: OutboundMessage): Promise<void> {
    if (!/^\d+$/.test(messageId)) throw new NotFoundError(`"${messageId}" is not a Telegram message id.`);
    const chat = chatIdOf(address.channel);
    const { html, markup } = renderEdit(message, this.#encode);
    await this.#call("editMessageText", chat, (signal) =>
      this.#o.api
        .editMessageText(chat, Number(messageId), html, { parse_mode: "HTML", link_preview_options: NO_PREVIEW, reply_markup: markup }, signal)
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
    const context: DeadlineContext = { method, token: this.#o.token, seconds: Math.min(seconds, this.#o.callTimeoutSeconds) };
    if (chat !== undefined) context.chat = chat;
    return withDeadline(run, context);
  }
}
