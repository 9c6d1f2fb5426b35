import type { Address, InboundEvent, OutboundMessage, SentMessage } from "./model.ts";

/**
 * Hands an inbound event to the engine. Resolves once the event is recorded durably
 * (de-duplicated, the user's message in history), so an adapter may then acknowledge
 * it to the platform. Never rejects for bad input: the person gets a reply instead.
 */
export type InboundHandler = (event: InboundEvent) => Promise<void>;

export interface AdapterCapabilities {
  /** Minimum interval between two edits of one message, in ms; progress is coalesced to it. */
  editIntervalMs: number;
  /** Longest text one message may carry; the adapter splits longer text. */
  maxTextLength: number;
  /**
   * Whether posted messages stay visible after a restart. False for the console:
   * the engine shows pending questions again when it starts.
   */
  persistentMessages: boolean;
}

/**
 * A chat platform, as the engine sees it. Created by `create<Name>Adapter(config)`.
 * Optional members are optional capabilities: without `edit`, progress is posted as new messages.
 */
export interface Adapter {
  /** Platform name used in addresses, e.g. `telegram`. */
  readonly platform: string;
  readonly capabilities: AdapterCapabilities;
  /** Connects and starts delivering inbound events to `handler`. */
  start(handler: InboundHandler): Promise<void>;
  /** Stops receiving; in-flight sends finish. */
  stop(): Promise<void>;
  send(address: Address, message: OutboundMessage): Promise<SentMessage>;
  edit?(address: Address, messageId: string, message: OutboundMessage): Promise<void>;
  /**
   * Finds a message sent earlier with `message.key` (Slack message metadata, a Discord nonce):
   * after a crash between posting and recording the post, the engine asks before posting again.
   * Without it, such a post may be repeated (at-least-once).
   */
  recall?(address: Address, key: string): Promise<SentMessage | undefined>;
  /** Shows a typing indicator, where the platform has one. */
  typing?(address: Address): Promise<void>;
}
