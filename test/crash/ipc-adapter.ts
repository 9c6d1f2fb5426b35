import type { Adapter, InboundHandler } from "../../src/port/adapter.ts";
import type { Address, InboundEvent, OutboundMessage, SentMessage } from "../../src/model.ts";

/**
 * The crash test's platform link: the test process plays the chat platform, this adapter
 * talks to it over the child-process IPC channel. A send waits for the platform's message
 * id, as with a real API; events are acknowledged once the engine has recorded them, and
 * the platform re-delivers unacknowledged events after a restart.
 */
export function createIpcAdapter(): Adapter {
  let handler: InboundHandler | undefined;
  let calls = 0;
  const pending = new Map<number, (value: unknown) => void>();
  const call = (op: string, payload: object): Promise<unknown> =>
    new Promise((resolve) => {
      const id = ++calls;
      pending.set(id, resolve);
      process.send!({ type: "call", op, id, ...payload });
    });
  const onMessage = (raw: unknown): void => {
    const message = raw as { type: string; id?: number; result?: unknown; event?: InboundEvent };
    if (message.type === "result" && message.id !== undefined) {
      pending.get(message.id)?.(message.result);
      pending.delete(message.id);
    } else if (message.type === "event" && message.event) {
      const event = message.event;
      void handler?.(event).then(() => process.send!({ type: "ack", eventId: event.id }));
    }
  };
  return {
    platform: "ipc",
    capabilities: { editIntervalMs: 20, maxTextLength: 10_000, persistentMessages: true },
    async start(h) {
      handler = h;
      process.on("message", onMessage);
    },
    async stop() {
      handler = undefined;
      process.off("message", onMessage);
    },
    async send(address: Address, message: OutboundMessage): Promise<SentMessage> {
      return (await call("send", { address, message })) as SentMessage;
    },
    async edit(address: Address, messageId: string, message: OutboundMessage): Promise<void> {
      await call("edit", { address, messageId, message });
    },
    async recall(address: Address, key: string): Promise<SentMessage | undefined> {
      return ((await call("recall", { address, key })) as SentMessage | null) ?? undefined;
    },
  };
}
