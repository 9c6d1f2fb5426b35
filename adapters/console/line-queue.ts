import type { OutboundKind } from "../../src/model.ts";
import { isCommandLine } from "./input.ts";

export interface LineQueueOptions {
  /** Hands one line to the bot; resolves when the handler is done. Never called twice at once. */
  deliver(line: string): Promise<void>;
  /** Called when `deliver` rejects; the line then counts as answered, so input goes on. */
  onError(error: unknown, line: string): void;
  /**
   * Pipe mode: hand each line over only after the bot answered the previous one, since
   * piped lines arrive long before the bot could answer them. Off on a tty: the person paces.
   */
  paced: boolean;
}

/**
 * The typed lines waiting for the bot, in order. A line counts as answered once the bot sent
 * a non-`status` message after it; a command also once `status` activity came (a task is
 * running, and `/status` or `/cancel` must reach it).
 */
export class LineQueue {
  readonly #options: LineQueueOptions;
  readonly #waiting: string[] = [];
  /** The line handed over last; undefined before the first. */
  #last: string | undefined;
  /** Whether a non-status message came since the last line was handed over. */
  #answered = false;
  /** Whether status activity came since the last line was handed over. */
  #statusSeen = false;
  /** The handler call in flight, if any. */
  #running: Promise<void> | undefined;
  #inputEnded = false;
  #closed = false;
  #resolveEnded!: () => void;
  /** Resolves when input ended, every line was handed over and the last one answered. */
  readonly ended = new Promise<void>((resolve) => (this.#resolveEnded = resolve));

  constructor(options: LineQueueOptions) {
    this.#options = options;
  }

  push(line: string): void {
    if (this.#closed) return;
    this.#waiting.push(line);
    this.#pump();
  }

  /** The input stream ended (EOF). */
  endInput(): void {
    this.#inputEnded = true;
    this.#pump();
  }

  /** The bot sent or edited a message of this kind. */
  botSent(kind: OutboundKind): void {
    if (kind === "status") this.#statusSeen = true;
    else this.#answered = true;
    this.#pump();
  }

  /** Drops the lines not handed over yet and waits for the one in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#waiting.length = 0;
    await this.#running;
    this.#resolveEnded();
  }

  #isAnswered(next: string): boolean {
    return this.#answered || (this.#statusSeen && isCommandLine(next));
  }

  #pump(): void {
    if (this.#closed || this.#running) return;
    const next = this.#waiting[0];
    if (next !== undefined && (!this.#options.paced || this.#last === undefined || this.#isAnswered(next))) {
      this.#release(next);
    } else if (next === undefined && this.#inputEnded && (this.#last === undefined || this.#isAnswered(this.#last))) {
      this.#resolveEnded();
    }
  }

  #release(line: string): void {
    this.#waiting.shift();
    this.#last = line;
    this.#answered = false;
    this.#statusSeen = false;
    // Set before calling out: a handler that sends at once re-enters #pump, which must wait.
    this.#running = Promise.resolve();
    this.#running = this.#options
      .deliver(line)
      .catch((error: unknown) => {
        this.#answered = true;
        this.#options.onError(error, line);
      })
      .finally(() => {
        this.#running = undefined;
        this.#pump();
      });
  }
}
