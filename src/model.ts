/**
 * The platform-neutral data model shared by the engine, the stores and the adapters.
 * Platform SDK types never appear here: adapters normalize into these shapes.
 */

/** Where a message came from and where replies go. */
export interface Address {
  /** Adapter name, e.g. `console`, `telegram`, `slack`, `discord`. */
  platform: string;
  /** Chat, channel or DM id on that platform. */
  channel: string;
  /** Thread id, when the conversation lives in a thread (a Slack mention starts one). */
  thread?: string;
  /** The platform's user id of the person who wrote. */
  user: string;
  /**
   * The conversation is a direct (one-to-one) chat between this person and the bot, as the
   * adapter knows it (a Telegram private chat, a Slack IM, a Discord DM, the console). There
   * the chat's user may act on every task of the chat; in groups, channels and threads only
   * the person who started a task (or a reviewer) may.
   */
  direct?: boolean;
}

/** Session key: `platform:channel[:thread]`. One open session per key. */
export function sessionKey(address: Address): string {
  const base = `${address.platform}:${address.channel}`;
  return address.thread ? `${base}:${address.thread}` : base;
}

export type SessionState = "idle" | "running" | "waiting" | "closed";

export interface Session {
  id: string;
  key: string;
  platform: string;
  channel: string;
  thread?: string;
  /** The user who opened the session; answers and cancels are theirs (or a reviewer's). */
  owner: string;
  state: SessionState;
  topic?: string;
  createdAt: number;
  updatedAt: number;
  lastActiveAt: number;
  closedAt?: number;
}

export type MessageRole = "user" | "assistant" | "system";
export type MessageSource = "user" | "workflow" | "scheduled" | "command";

export interface Link {
  url: string;
  title?: string;
}

export interface Message {
  id: string;
  sessionId: string;
  role: MessageRole;
  text: string;
  source: MessageSource;
  /** Platform user id for user messages. */
  user?: string;
  links?: Link[];
  /** The platform's id for this message, when known. */
  platformMessageId?: string;
  /** The task this message belongs to, if any. */
  taskId?: string;
  at: number;
}

interface InboundBase {
  /** The platform's event id, used to ignore re-deliveries (Slack retries, Telegram re-sends). */
  id: string;
  address: Address;
  /** The platform payload, kept for debugging only; the engine never reads it. */
  raw?: unknown;
  /** The platform's id for the user's message, when there is one. */
  platformMessageId?: string;
}

/** A plain message from a person. */
export interface InboundMessage extends InboundBase {
  kind: "message";
  text: string;
}

/** A slash command, e.g. `/history 5` → `{ name: "history", args: "5" }`. */
export interface InboundCommand extends InboundBase {
  kind: "command";
  name: string;
  args: string;
}

/** A button press (or a modal submission) on something the engine sent. */
export interface InboundAction extends InboundBase {
  kind: "action";
  /** The opaque `Action.id` the engine put on the button. */
  actionId: string;
  /** Text typed into a form, e.g. the corrected draft of a review's Edit. */
  text?: string;
  /** Feedback typed into a form (review Edit / Reject). */
  feedback?: string;
}

export type InboundEvent = InboundMessage | InboundCommand | InboundAction;

/** A button, described once; each adapter renders it natively. */
export interface Action {
  /** Opaque id handed back in `InboundAction.actionId`; at most 64 bytes (Telegram's limit). */
  id: string;
  label: string;
  style?: "primary" | "danger";
  /** What the button means; text adapters use it to accept typed answers ("approve", "2"). */
  role: "choice" | "approve" | "reject" | "edit" | "cancel";
}

export type ProgressState = "queued" | "running" | "waiting" | "completed" | "failed" | "cancelled";

export interface Progress {
  percent: number;
  step?: string;
  state: ProgressState;
}

/**
 * What kind of message the engine sends:
 * - `status`: the one message per task that is edited with progress;
 * - `question` / `review`: the workflow waits for the person (actions attached);
 * - `result`: the task's outcome; `reply`: an answer to a command or a hint; `notice`: anything else.
 */
export type OutboundKind = "status" | "question" | "review" | "result" | "reply" | "notice";

export interface OutboundMessage {
  kind: OutboundKind;
  /** Text in a small markdown subset: `**bold**`, `_italic_`, `` `code` ``, and bare links. */
  text: string;
  progress?: Progress;
  actions?: Action[];
  /** The draft under review, shown apart from the question. */
  review?: { data: string; /** What the data is (default "Draft"). */ label?: string };
  links?: Link[];
  /** The engine expects a free-text reply (Telegram: ForceReply). */
  expectsText?: boolean;
  /** The task this message belongs to. */
  taskId?: string;
  /** Idempotency key (task + purpose), for adapters that can `recall` a message by it. */
  key?: string;
}

/** What an adapter returns for a posted message. */
export interface SentMessage {
  id: string;
}
