import type { Message } from "../model.ts";
import type { Store } from "../store/port.ts";
import type { EventFeed } from "./feed.ts";
import type { NewFeedEvent } from "./types.ts";

/** The `message` event of a message that entered a session's history. */
export function messageEvent(message: Message): NewFeedEvent<"message"> {
  return {
    type: "message",
    sessionId: message.sessionId,
    ...(message.taskId ? { taskId: message.taskId } : {}),
    at: message.at,
    data: {
      id: message.id,
      role: message.role,
      text: message.text,
      source: message.source,
      ...(message.user ? { user: message.user } : {}),
      ...(message.links && message.links.length > 0 ? { links: message.links } : {}),
    },
  };
}

/**
 * The store with one difference: a message appended to history is published on `feed` as a
 * `message` event once the append is durable. Every path into history (the engine's record of
 * what people write, the runner's questions and results, the scheduler's posts, anything
 * given `bot.store`) goes through `appendMessage`, so none can forget to publish. A re-delivered
 * event appends nothing (appendMessageOnce) and so publishes nothing.
 */
export function withMessageEvents(store: Store, feed: EventFeed): Store {
  const appendMessage = async (message: Message): Promise<void> => {
    await store.appendMessage(message);
    void feed.publish(messageEvent(message));
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === "appendMessage") return appendMessage;
      const value: unknown = Reflect.get(target, property, target);
      // Bound to the store itself: its methods use private fields a proxy doesn't have.
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
