import { isActionId } from "../../src/port/index.ts";
import type { Inbound } from "./inbound.ts";
import { parseCommand } from "./inbound.ts";

/** A chat (and forum topic) as plugin mode's `owns` sees it. */
export interface TelegramChatRef {
  chatId: number;
  /** `private`, `group`, `supergroup` or `channel`. */
  chatType: string;
  /** The forum topic, in forum supergroups. */
  topicId?: number;
}

/** Plugin mode: whether chatflow takes the plain messages of a chat (or topic). */
export type OwnsChat = (chat: TelegramChatRef) => boolean;

/** How many of chatflow's own message ids are remembered, so replies to them reach chatflow. */
const SENT_CAPACITY = 10_000;

interface RawUpdate {
  message?: {
    message_id?: number;
    text?: string;
    chat?: { id?: number; type?: string };
    message_thread_id?: number;
    is_topic_message?: boolean;
    reply_to_message?: { message_id?: number };
  };
  callback_query?: { data?: string };
}

/**
 * Which updates are chatflow's when it shares a grammY bot with other handlers: its commands,
 * presses of its buttons, replies to its messages, and the plain messages of the chats (or
 * topics) `owns` names. Everything else goes on to the host bot's handlers.
 *
 * Limitation: the messages chatflow sent are remembered in memory (the last 10,000), so after a
 * restart a reply to an older question is the host bot's unless its chat is owned.
 */
export class PluginOwnership {
  readonly #owns: OwnsChat;
  #commands: ReadonlySet<string> = new Set();
  /** `chatId:messageId` of chatflow's messages, oldest first. */
  readonly #sent = new Set<string>();

  constructor(owns: OwnsChat) {
    this.#owns = owns;
  }

  /** The command names chatflow answers (without the slash). `/start` stays the host bot's unless named. */
  setCommands(names: Iterable<string>): void {
    this.#commands = new Set([...names].map((name) => name.toLowerCase()));
  }

  /** Remembers a message chatflow posted. */
  sent(chatId: number | string, messageId: string): void {
    const key = `${chatId}:${messageId}`;
    this.#sent.delete(key);
    this.#sent.add(key);
    if (this.#sent.size > SENT_CAPACITY) this.#sent.delete(this.#sent.values().next().value!);
  }

  /** Whether the update is chatflow's. */
  claims(inbound: Inbound, raw: unknown): boolean {
    const update = (raw ?? {}) as RawUpdate;
    if (update.callback_query) {
      const data = update.callback_query.data ?? "";
      return isActionId(data) || data.startsWith("~");
    }
    const message = update.message;
    if (!message?.chat || typeof message.chat.id !== "number") return false;
    const command = message.text !== undefined ? parseCommand(message.text) : undefined;
    if (command) return this.#commands.has(command.name) && inbound.type === "event";
    const replyTo = message.reply_to_message?.message_id;
    if (replyTo !== undefined && this.#sent.has(`${message.chat.id}:${replyTo}`)) return true;
    const topicId = message.is_topic_message ? message.message_thread_id : undefined;
    return this.#owns({ chatId: message.chat.id, chatType: message.chat.type ?? "private", ...(topicId !== undefined ? { topicId } : {}) });
  }
}
