import { clearLine } from "node:readline";

/**
 * The terminal as the bot writes to it. On a tty a progress line is left open (no newline)
 * while it is the last thing printed, so later progress redraws it in place; anything
 * else printed first ends it with a newline, so no half line is ever left behind.
 */
export class ConsoleScreen {
  readonly #output: NodeJS.WritableStream;
  readonly #tty: boolean;
  /** The message whose progress line is open on the last row (tty only). */
  #openId: string | undefined;
  /** What was last shown per message, so an unchanged edit prints nothing. */
  readonly #shown = new Map<string, string>();

  constructor(output: NodeJS.WritableStream, tty: boolean) {
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
    this.#endOpenLine();
    this.#output.write(lines.join("\n") + "\n");
  }

  /**
   * Shows the progress line of message `id`: redrawn in place when it is the open last line
   * on a tty, else printed as a new line; skipped when unchanged.
   */
  progress(id: string, line: string): void {
    if (this.#shown.get(id) === line) return;
    this.#shown.set(id, line);
    if (!this.#tty) {
      this.#output.write(line + "\n");
    } else if (this.#openId === id) {
      this.#output.write("\r");
      clearLine(this.#output, 0);
      this.#output.write(line);
    } else {
      this.#endOpenLine();
      this.#output.write(line);
      this.#openId = id;
    }
  }

  /** Whether message `id` is the open progress line (redrawn in place). */
  isOpen(id: string): boolean {
    return this.#openId === id;
  }

  /** The person pressed Enter in the terminal, whose echo moved the cursor to a new line. */
  inputEchoed(): void {
    this.#openId = undefined;
  }

  /** Ends an open progress line; call before the process writes anything else or exits. */
  end(): void {
    this.#endOpenLine();
  }

  #endOpenLine(): void {
    if (this.#openId === undefined) return;
    this.#openId = undefined;
    this.#output.write("\n");
  }
}
