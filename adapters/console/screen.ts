import { settledLength } from "./markdown.ts";

/** How a growing answer looks on screen (made by `answerLook` in render.ts). */
export interface AnswerLook {
  /**
   * The screen text of (part of) an answer: its rendered lines after the bot prefix, joined
   * by "\n", no line end after the last; `continued` when it goes on with an answer that was
   * printed before something else came between.
   */
  render(text: string, continued: boolean): string;
  /** The line printed above a new version of an answer that does not go on from what was printed. */
  readonly restarted: string;
}

/** Where the screen writes: the terminal, or the prompt area above the person's line editor. */
export interface ScreenOutput {
  write(text: string): unknown;
}

/** A plain reply that may grow with each edit (a streamed model answer). */
interface Answer {
  readonly look: AnswerLook;
  /** The text as last received, leading whitespace dropped. */
  text: string;
  /** How much of `text` is on the screen. */
  shown: number;
  /** Where in `text` the block on screen starts: 0, or where a continuation starts. */
  base: number;
  /** What was written for `text.slice(base, shown)`. */
  written: string;
}

/**
 * The terminal as the bot writes to it. At most one thing is left open at the end of the
 * output, so that later updates continue it instead of printing it again:
 * - on a tty, a progress line (no newline), redrawn in place while it is the last thing printed;
 * - in both modes, a growing answer (a streamed reply): each edit that extends the text prints
 *   only the new part, like a typewriter, so the answer is printed once.
 * Anything else printed first ends the open line with a newline, so nothing is ever glued to
 * it and no half line is left behind.
 *
 * An answer and a progress line can't both be the last line. While an answer is open, the
 * progress of a running task (the one writing the answer, as a rule) is held back, newest
 * line per message kept, and drawn once the answer's line ends: the growing answer already
 * shows that work goes on, and a bar drawn below it would cut the answer in two. A progress
 * line that says something new — done, failed, cancelled, waiting for the person — is
 * drawn at once and ends the answer, which is how a finished answer gets its newline
 * (the engine never says the answer is finished).
 */
export class ConsoleScreen {
  readonly #output: ScreenOutput;
  readonly #tty: boolean;
  /** The message whose progress line is open on the last row (tty only). */
  #openId: string | undefined;
  /** The message whose answer is open at the end of the output. */
  #answerId: string | undefined;
  /** Whether the open answer's line was ended by the person's Enter (tty): it goes on in a new block. */
  #answerCut = false;
  /** What was last shown per message, so an unchanged edit prints nothing. */
  readonly #shown = new Map<string, string>();
  /** The growing answers by message id. */
  readonly #answers = new Map<string, Answer>();
  /** Progress lines held back while an answer is open, by message id, oldest first. */
  readonly #held = new Map<string, string>();

  constructor(output: ScreenOutput, tty: boolean) {
    this.#output = output;
    this.#tty = tty;
  }

  /** Prints whole lines for message `id` (none for lines that belong to no message). */
  print(lines: readonly string[], id?: string): void {
    if (id !== undefined) {
      const text = lines.join("\n");
      if (this.#shown.get(id) === text) return;
      this.#shown.set(id, text);
    }
    this.#endOpen();
    if (id !== undefined) this.#answers.delete(id);
    this.#output.write(lines.join("\n") + "\n");
  }

  /**
   * Shows the text of answer `id`, a plain reply that grows as it is edited (a streamed model
   * answer sends its first words, then edits with the whole text so far):
   * - a text that goes on from what was printed prints only the rest, on the answer's line
   *   while it is the last thing printed, else as a new block starting `bot> …`;
   * - a text that doesn't (a retried model call starting over) prints the answer again under
   *   the `restarted` mark.
   * Of a line still being written only its settled start is printed (see `settledLength`),
   * so a `**` split between two edits is never printed raw and then styled; the rest comes
   * with the next edit, or when the answer's line ends. `done`: the message won't grow (a
   * reply of no task): its line is ended at once.
   */
  answer(id: string, text: string, look: AnswerLook, done: boolean): void {
    text = text.replace(/^\s+/, "");
    this.#shown.delete(id);
    let answer = this.#answers.get(id);
    if (answer?.text === text) return;
    if (!answer || !text.startsWith(answer.text.slice(0, answer.shown))) {
      if (answer && answer.shown > 0) {
        this.#endOpen();
        this.#output.write(answer.look.restarted + "\n");
      }
      answer = { look, text, shown: 0, base: 0, written: "" };
      this.#answers.set(id, answer);
    }
    answer.text = text;
    // The answer becomes the open block once it has words to show, even when none are settled
    // yet (an opening `**`): those are printed with a later edit, or when the line ends.
    if (this.#answerId !== id && text.trimEnd().length > answer.shown) {
      this.#endOpen();
      this.#continueAt(answer);
      this.#answerId = id;
    }
    const end = done ? text.trimEnd().length : settledLength(text, answer.shown);
    if (this.#answerId === id && end > answer.shown) {
      if (this.#answerCut) {
        this.#answerCut = false;
        this.#continueAt(answer);
      }
      this.#write(answer, end);
    }
    if (done && this.#answerId === id) this.#endAnswer();
  }

  /**
   * Shows the progress line of message `id`: redrawn in place when it is the open last line
   * on a tty, else printed as a new line; skipped when unchanged. While an answer is open a
   * line that isn't `news` (the task merely runs on) waits for the answer's line to end.
   */
  progress(id: string, line: string, news: boolean): void {
    if (this.#answerId !== undefined && !news) {
      this.#held.delete(id);
      this.#held.set(id, line);
      return;
    }
    this.#held.delete(id);
    this.#drawProgress(id, line);
  }

  /** Whether message `id` is the open progress line (redrawn in place). */
  isOpen(id: string): boolean {
    return this.#openId === id;
  }

  /**
   * The person pressed Enter in the terminal, whose echo moved the cursor to a new line. An
   * open answer stays the current one (its progress still held back), but goes on in a new
   * block: what was held back of its line is printed with the next edit, or when it ends.
   */
  inputEchoed(): void {
    this.#openId = undefined;
    if (this.#answerId !== undefined) this.#answerCut = true;
  }

  /** Ends an open line; call before the process writes anything else or exits. */
  end(): void {
    this.#endOpen();
  }

  #drawProgress(id: string, line: string): void {
    if (this.#shown.get(id) === line) return;
    this.#shown.set(id, line);
    if (!this.#tty) {
      this.#endOpen();
      this.#output.write(line + "\n");
    } else if (this.#openId === id) {
      // Back to the line's start, erase it (ECMA-48 EL 2), draw the new one.
      this.#output.write("\r\x1b[2K" + line);
    } else {
      this.#endOpen();
      this.#output.write(line);
      this.#openId = id;
    }
  }

  /** Starts a new block for `answer` with what is not on the screen yet. */
  #continueAt(answer: Answer): void {
    // Leading blank lines of the rest would only leave an empty `bot> …` line.
    const rest = answer.text.slice(answer.shown);
    answer.base = answer.shown + (/^\s*\n/.exec(rest)?.[0].length ?? 0);
    answer.written = "";
  }

  /** Writes `answer` up to `end`: what its screen text adds to what was written. */
  #write(answer: Answer, end: number): void {
    const screen = answer.look.render(answer.text.slice(answer.base, end), answer.base > 0);
    if (screen.startsWith(answer.written)) {
      this.#output.write(screen.slice(answer.written.length));
      answer.written = screen;
    } else {
      // Settled text renders the same when it grows, so this is not expected; should it
      // happen, the answer is printed again, marked, rather than garbled.
      answer.base = 0;
      answer.written = answer.look.render(answer.text.slice(0, end), false);
      this.#output.write("\n" + answer.look.restarted + "\n" + answer.written);
    }
    answer.shown = end;
  }

  /** Ends the open answer's line, with all of its text, then draws the progress held back meanwhile. */
  #endAnswer(): void {
    const id = this.#answerId;
    if (id === undefined) return;
    this.#answerId = undefined;
    const answer = this.#answers.get(id)!;
    const end = answer.text.trimEnd().length;
    const cut = this.#answerCut;
    this.#answerCut = false;
    // The line to end: the block's, unless the person's Enter ended it or nothing is on it.
    let open = !cut && answer.written !== "";
    if (end > answer.shown) {
      if (cut) this.#continueAt(answer);
      this.#write(answer, end);
      open = true;
    }
    if (open) this.#output.write("\n");
    this.#drawHeld();
  }

  #drawHeld(): void {
    for (const [id, line] of [...this.#held]) {
      this.#held.delete(id);
      this.#drawProgress(id, line);
    }
  }

  #endOpen(): void {
    this.#endAnswer();
    if (this.#openId === undefined) return;
    this.#openId = undefined;
    this.#output.write("\n");
  }
}
