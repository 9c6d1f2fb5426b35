import type { Message } from "../model.ts";
import type { Store } from "./port.ts";

/** How far back a repeat is looked for: re-processing happens right after a crash, near the tail. */
const RECENT = 20;

/**
 * Appends a message whose id is derived from what caused it, unless it is among the
 * session's recent messages already (the same event or slot processed again after a crash).
 * Resolves whether it was there.
 */
export async function appendMessageOnce(store: Store, message: Message): Promise<boolean> {
  const tail = await store.listMessages(message.sessionId, RECENT);
  if (tail.some((m) => m.id === message.id)) return true;
  await store.appendMessage(message);
  return false;
}
