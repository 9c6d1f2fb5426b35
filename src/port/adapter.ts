import type { Logger } from "../logger.ts";
import type { Address, InboundEvent, OutboundMessage, SentMessage } from "../model.ts";
import type { Host } from "./host.ts";

/** A command the engine answers, for an adapter's command menu (Telegram's, Discord's slash commands). */
export interface CommandInfo {
  /** Without the slash, e.g. `history`. */
  name: string;
  /** One line, e.g. "the last n messages of this session". */
  description: string;
  /** How it is typed, e.g. `/history [n]`. */
  usage: string;
  /** `workflow`: a routed command that starts a workflow with the text after it as the request. */
  kind: "builtin" | "workflow";
}

/** What the engine tells an adapter when it starts it. */
export interface AdapterStartContext {
  /** The commands the engine answers on this adapter: built-ins, then routed workflow commands. */
  commands: readonly CommandInfo[];
  /** The engine, through its port: sessions, tasks, schedules, events, health (the web adapter serves the HTTP API over it). */
  host?: Host;
  /** The bot's logger. */
  log?: Logger;
  /**
   * For an adapter with a `singleReceiver`: false when the engine leaves receiving to the
   * process that leads it (the store is shared with other processes); the adapter connects
   * for sending only, and receives once `singleReceiver.receive(true)` is called. Default true.
   */
  receive?: boolean;
}

/** How a private notice is shown. */
export interface NoticeOptions {
  /** A refusal or a warning: shown so the person must dismiss it, where the platform can (a Telegram alert). */
  alert?: boolean;
}

/**
 * Hands an inbound event to the engine. Resolves once the event is recorded durably
 * (de-duplicated, the user's message in history), so an adapter may then acknowledge
 * it to the platform. Never rejects for bad input: the person gets a reply instead.
 * What it resolves with (the engine's `HandleOutcome`) is for callers that answer for the
 * event, such as the HTTP API; adapters need not look at it.
 */
export type InboundHandler = (event: InboundEvent) => Promise<unknown>;

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
  /**
   * Whether the channel shows each task's status message. False for a channel that shows
   * progress from the event feed instead (the web): the runner then posts and edits none.
   * Default true.
   */
  statusMessages?: boolean;
}

/**
 * A chat platform, as the engine sees it. Created by `create<Name>Adapter(config)`.
 * Optional members are optional capabilities: without `edit`, progress is posted as new messages.
 */
export interface Adapter {
  /** Platform name used in addresses, e.g. `telegram`. */
  readonly platform: string;
  readonly capabilities: AdapterCapabilities;
  /**
   * Connects and starts delivering inbound events to `handler`. `context` (given by the
   * engine) lists the commands to show in the platform's menu.
   */
  start(handler: InboundHandler, context?: AdapterStartContext): Promise<void>;
  /**
   * Present when the platform lets one connection per bot receive (Telegram's long polling: a
   * second poller gets 409). With a store several processes share, one process at a time leads
   * `name` and receives; the others send only. `receive(true)` starts receiving (resolves once
   * it runs), `receive(false)` stops it (resolves once stopped).
   */
  readonly singleReceiver?: { readonly name: string; receive(on: boolean): Promise<void> };
  /** Stops receiving; in-flight sends finish. */
  stop(): Promise<void>;
  send(address: Address, message: OutboundMessage): Promise<SentMessage>;
  /**
   * Changes a message in place. Resolves with a new id when the platform could no longer
   * edit that message and the adapter posted the new state as a new message instead (a
   * Discord interaction response whose token expired): the engine edits that one from then on.
   */
  edit?(address: Address, messageId: string, message: OutboundMessage): Promise<void | SentMessage>;
  /**
   * Finds a message sent earlier with `message.key` (Slack message metadata, a Discord nonce):
   * after a crash between posting and recording the post, the engine asks before posting again.
   * Without it, such a post may be repeated (at-least-once).
   */
  recall?(address: Address, key: string): Promise<SentMessage | undefined>;
  /** Whether the adapter is connected to its platform now (for /healthz); absent: assumed while started. */
  connected?(): boolean;
  /** Shows a typing indicator, where the platform has one. */
  typing?(address: Address): Promise<void>;
  /**
   * Shows `text` only to the person behind `event`, in reply to it: refusals, expired buttons
   * and similar (Telegram: the button's callback answer; Slack: `chat.postEphemeral`; Discord:
   * an ephemeral reply). Resolves false when this event can't carry one (e.g. a typed message
   * on Telegram); the engine then replies in the chat. The engine calls it while its handler
   * is still handling `event` (so an adapter may hold the platform's answer to the event until then).
   */
  notify?(event: InboundEvent, text: string, options?: NoticeOptions): Promise<boolean>;
}

/** What the composition root hands an adapter's factory besides its section and the environment. */
export interface AdapterFactoryContext {
  logger: Logger;
}

/** What every adapter module the adapter table loads exports. */
export interface AdapterModule {
  /**
   * The adapter its configuration section (`adapters.<name>`) describes, with secrets from
   * `env`. The module validates the section with its own zod schema; errors name the field
   * (`adapters.<name>.<field>`) or the environment variable to set.
   */
  fromConfig(section: unknown, env: NodeJS.ProcessEnv, context: AdapterFactoryContext): Adapter | Promise<Adapter>;
}
