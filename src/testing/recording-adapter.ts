import type { Adapter, AdapterCapabilities, InboundHandler } from "../port/adapter.ts";
import type { Address, InboundEvent, OutboundMessage, SentMessage } from "../model.ts";

export interface RecordedSend {
  id: string;
  address: Address;
  message: OutboundMessage;
  at: number;
}

export interface RecordedEdit {
  messageId: string;
  address: Address;
  message: OutboundMessage;
  at: number;
}

export interface RecordedNotice {
  /** The event the notice answers; its `address.user` is the only person who sees it. */
  event: InboundEvent;
  text: string;
  alert: boolean;
  at: number;
}

export interface RecordingAdapter extends Adapter {
  readonly sent: RecordedSend[];
  readonly edits: RecordedEdit[];
  /** Private notices (refusals, expired buttons), when `privateNotices` is on. */
  readonly notices: RecordedNotice[];
  /** Hands an event to the engine as the platform would; resolves when the engine recorded it. */
  deliver(event: InboundEvent): Promise<void>;
  /** Resolves with the first sent message (from now on, or already sent) matching `match`. */
  waitFor(match: (message: OutboundMessage, send: RecordedSend) => boolean, timeoutMs?: number): Promise<RecordedSend>;
}

/**
 * An adapter that records what the engine sends and lets a test deliver events: for tests
 * of workflows and the engine, and for benchmarks. Platform name default `test`. With
 * `privateNotices` (default true) it has the `notify` capability and records notices in
 * `notices`; without it the engine falls back to replies in the chat.
 */
export function createRecordingAdapter(options: { platform?: string; capabilities?: Partial<AdapterCapabilities>; privateNotices?: boolean } = {}): RecordingAdapter {
  const sent: RecordedSend[] = [];
  const edits: RecordedEdit[] = [];
  const notices: RecordedNotice[] = [];
  const waiters = new Set<{ match: (message: OutboundMessage, send: RecordedSend) => boolean; resolve: (send: RecordedSend) => void }>();
  let handler: InboundHandler | undefined;
  let counter = 0;
  const adapter: RecordingAdapter = {
    platform: options.platform ?? "test",
    capabilities: { editIntervalMs: 0, maxTextLength: 100_000, persistentMessages: true, ...options.capabilities },
    sent,
    edits,
    notices,
    async start(h) {
      handler = h;
    },
    async stop() {
      handler = undefined;
    },
    async send(address, message): Promise<SentMessage> {
      const record = { id: `m${++counter}`, address, message, at: Date.now() };
      sent.push(record);
      for (const waiter of waiters) {
        if (waiter.match(message, record)) {
          waiters.delete(waiter);
          waiter.resolve(record);
        }
      }
      return { id: record.id };
    },
    async edit(address, messageId, message) {
      edits.push({ messageId, address, message, at: Date.now() });
    },
    async deliver(event) {
      if (!handler) throw new Error("The recording adapter is not started.");
      await handler(event);
    },
    waitFor(match, timeoutMs = 10_000) {
      const already = sent.find((record) => match(record.message, record));
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const waiter = { match, resolve: (send: RecordedSend) => (clearTimeout(timer), resolve(send)) };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`No matching message was sent within ${timeoutMs} ms. Sent: ${sent.map((s) => `[${s.message.kind}] ${s.message.text.slice(0, 60)}`).join(" | ")}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
  };
  if (options.privateNotices !== false) {
    adapter.notify = async (event, text, notice) => {
      notices.push({ event, text, alert: notice?.alert === true, at: Date.now() });
      return true;
    };
  }
  return adapter;
}
