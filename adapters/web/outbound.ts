import { newId } from "../../src/port/index.ts";
import type { Address, OutboundMessage } from "../../src/model.ts";

/**
 * What the engine sends to a web session that the feed does not already carry: replies to
 * commands, hints, notices, and the growing text of a streamed answer. Task statuses,
 * questions, reviews and results reach clients as their typed events (start, progress,
 * question, review, result…), and history as `message` events, so they are not repeated.
 *
 * A reply's message id starts with `r-` so that its edits (a streamed answer) are recognised
 * after a restart too; other messages get `m-`.
 */
export function messageIdFor(message: OutboundMessage): string {
  return `${shownAsReply(message) ? "r" : "m"}-${newId(10)}`;
}

/** Whether clients see this message as a `reply` event. */
export function shownAsReply(message: OutboundMessage): boolean {
  if (message.kind === "reply") return true;
  // A notice with a key is a scheduled post (in history, so a `message` event already).
  return message.kind === "notice" && message.taskId === undefined && message.key === undefined;
}

export function isReplyId(messageId: string): boolean {
  return messageId.startsWith("r-");
}

/** The `reply` event's data. */
export function replyData(messageId: string, message: OutboundMessage, address: Address) {
  return {
    messageId,
    kind: message.kind === "reply" ? ("reply" as const) : ("notice" as const),
    text: message.text,
    ...(message.links?.length ? { links: message.links } : {}),
    ...(address.user ? { to: address.user } : {}),
  };
}
