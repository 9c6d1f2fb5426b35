import type { ButtonInteraction, ChatInputCommandInteraction, ModalSubmitInteraction } from "discord.js";

/** An interaction's token lives 15 minutes; chatflow stops using it a little before. */
export const TOKEN_LIFETIME_MS = 15 * 60_000 - 30_000;
/** How long a deferred command waits for the engine's first message to take its place. */
const FIRST_REPLY_WINDOW_MS = 60_000;

export type Replyable = ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction;

interface Deferred {
  interaction: ChatInputCommandInteraction;
  at: number;
}

/**
 * The interactions chatflow can still answer through: a deferred slash command waits for the
 * engine's first message in that conversation (it becomes the original response: a task's
 * status message), and each message sent through an interaction keeps its token for edits
 * until the token expires. Tokens stay in memory only: after a restart, or 15 minutes, the
 * adapter goes on with channel messages.
 */
export class Interactions {
  /** Deferred slash commands by `channel:user`, not yet answered with a message. */
  readonly #deferred = new Map<string, Deferred>();
  /** Messages sent through an interaction, by message id. */
  readonly #messages = new Map<string, { interaction: Replyable; at: number; original: boolean }>();
  /** Interactions by the engine event's id, for private notices. */
  readonly #byEvent = new Map<string, { interaction: Replyable; at: number }>();

  /** A slash command was deferred: its original response is the next message to `channel` for `user`. */
  deferred(channel: string, user: string, interaction: ChatInputCommandInteraction): void {
    this.#deferred.set(`${channel}:${user}`, { interaction, at: Date.now() });
  }

  /** Takes the deferred command whose original response the next message to this conversation fills. */
  takeDeferred(channel: string, user: string): ChatInputCommandInteraction | undefined {
    const key = `${channel}:${user}`;
    const entry = this.#deferred.get(key);
    if (!entry) return undefined;
    this.#deferred.delete(key);
    return Date.now() - entry.at < FIRST_REPLY_WINDOW_MS ? entry.interaction : undefined;
  }

  /** Forgets a deferred command before a message filled its response; true if it was still waiting for one. */
  dropDeferred(interaction: ChatInputCommandInteraction): boolean {
    for (const [key, entry] of this.#deferred) {
      if (entry.interaction !== interaction) continue;
      this.#deferred.delete(key);
      return true;
    }
    return false;
  }

  /** A message sent through an interaction (its original response, or a follow-up). */
  sent(messageId: string, interaction: Replyable, original: boolean): void {
    this.#messages.set(messageId, { interaction, at: Date.now(), original });
    this.#sweep();
  }

  /** The interaction a message can still be edited through, while its token lives. */
  editable(messageId: string): { interaction: Replyable; original: boolean } | undefined {
    const entry = this.#messages.get(messageId);
    if (!entry) return undefined;
    if (Date.now() - entry.at >= TOKEN_LIFETIME_MS) {
      this.#messages.delete(messageId);
      return undefined;
    }
    return entry;
  }

  /** Forgets a message's interaction (its token was refused). */
  expire(messageId: string): void {
    this.#messages.delete(messageId);
  }

  /** The interaction behind an engine event (a command, a press, a submission). */
  ofEvent(eventId: string): Replyable | undefined {
    const entry = this.#byEvent.get(eventId);
    return entry && Date.now() - entry.at < TOKEN_LIFETIME_MS ? entry.interaction : undefined;
  }

  event(eventId: string, interaction: Replyable): void {
    this.#byEvent.set(eventId, { interaction, at: Date.now() });
    this.#sweep();
  }

  #sweep(): void {
    const now = Date.now();
    if (this.#messages.size < 1000 && this.#byEvent.size < 1000) return;
    for (const [id, entry] of this.#messages) if (now - entry.at >= TOKEN_LIFETIME_MS) this.#messages.delete(id);
    for (const [id, entry] of this.#byEvent) if (now - entry.at >= TOKEN_LIFETIME_MS) this.#byEvent.delete(id);
    for (const [key, entry] of this.#deferred) if (now - entry.at >= FIRST_REPLY_WINDOW_MS) this.#deferred.delete(key);
  }
}
