import type { Interface } from "node:readline";
import { stripVTControlCharacters } from "node:util";

// ECMA-48 cursor controls, written by hand as `readline.moveCursor` and friends do.
const CLEAR_DOWN = "\x1b[J";
const up = (rows: number) => (rows > 0 ? `\x1b[${rows}A` : "");

/**
 * The bottom of an interactive terminal, where the bot's output and the person's typing meet:
 * everything the bot prints goes above the line being edited (a readline `Interface` in
 * terminal mode), and the last line the bot left open (a progress bar redrawn in place, an
 * answer still growing) stays just above it, so neither erases the other.
 *
 * Each write erases the prompt area and the open line, prints the new output (the open line
 * as it now reads, ended so the prompt starts on a row of its own) and has readline draw the
 * prompt again with what the person typed, the cursor where it was. Rows are counted from the
 * text's display width: the terminal wraps a line longer than the window.
 */
export class PromptArea {
  readonly #output: NodeJS.WritableStream;
  readonly #reader: Interface;
  /** The open last line as written (after the last "\n"), styles included; "" when none. */
  #tail = "";
  /** Whether the open line is on the screen above the prompt (Ctrl-L clears it away). */
  #tailShown = false;
  #closed = false;

  constructor(output: NodeJS.WritableStream, reader: Interface) {
    this.#output = output;
    this.#reader = reader;
  }

  /**
   * Prints `text` as a plain terminal would at the end of the output: "\n" ends a line, and
   * "\r" goes back to the start of the open line (what follows replaces it, as the progress
   * bar's "\r" + erase-line + new bar does).
   */
  write(text: string): boolean {
    const lines = (this.#tail + text).split("\n").map(lastRewrite);
    const tail = lines.pop() ?? "";
    this.#draw(lines.map((line) => line + "\n").join(""), tail);
    return true;
  }

  /**
   * The person pressed Enter: readline moved the cursor below the typed line, which now
   * stands between the open line and the prompt. The open line can't be redrawn from here
   * on; what the bot adds to it goes on a new line (the screen starts a new block).
   */
  lineEntered(): void {
    this.#tail = "";
    this.#tailShown = false;
    if (!this.#closed) this.#reader.prompt(true);
  }

  /** The screen was cleared (Ctrl-L, after readline redrew the prompt at the top): draw the open line again above it. */
  cleared(): void {
    this.#tailShown = false;
    this.#draw("", this.#tail);
  }

  /**
   * Erases the prompt area (a line typed but never sent is not the chat's), leaving the
   * cursor at the start of an empty row: whatever runs next, the shell's prompt or the next
   * start's banner, begins on a clean line. Later writes print without a prompt.
   */
  close(): void {
    if (this.#closed) return;
    this.#output.write(this.#erasePrompt());
    this.#closed = true;
  }

  #draw(lines: string, tail: string): void {
    let out = this.#erasePrompt();
    if (this.#tailShown) out += up(rowsOf(this.#tail, this.#columns())) + "\r" + CLEAR_DOWN;
    out += lines + tail;
    // The open line is ended on screen (not in #tail): the prompt needs a row of its own.
    if (tail !== "") out += "\n";
    this.#tail = tail;
    this.#tailShown = tail !== "";
    this.#output.write(out);
    if (this.#closed) return;
    // refreshLine moves up as many rows as the cursor was below the prompt's start before
    // drawing the prompt there: give it those rows, so it lands where the cursor is now.
    const { rows } = this.#reader.getCursorPos();
    if (rows > 0) this.#output.write("\n".repeat(rows));
    this.#reader.prompt(true);
  }

  /** Moves to the start of the prompt area and clears it, down to the bottom of the screen. */
  #erasePrompt(): string {
    if (this.#closed) return "";
    return up(this.#reader.getCursorPos().rows) + "\r" + CLEAR_DOWN;
  }

  #columns(): number {
    const columns = (this.#output as { columns?: number }).columns;
    return typeof columns === "number" && columns > 0 ? columns : 80;
  }
}

/** What is left of a line after its last "\r" (and the erase-line that follows it). */
function lastRewrite(line: string): string {
  const start = line.lastIndexOf("\r");
  return start < 0 ? line : line.slice(start + 1).replace(/^\x1b\[2K/, "");
}

/** Screen rows a line takes in a window `columns` wide: at least one. */
export function rowsOf(line: string, columns: number): number {
  return Math.max(1, Math.ceil(displayWidth(line) / columns));
}

/**
 * Columns a line takes on screen: escape sequences take none, combining marks none, wide
 * (East Asian, emoji) characters two. An estimate, as terminals differ on some characters.
 */
export function displayWidth(line: string): number {
  let width = 0;
  for (const char of stripVTControlCharacters(line)) {
    const code = char.codePointAt(0)!;
    if (code < 0x20 || (code >= 0x7f && code < 0xa0) || /\p{Mn}|\p{Me}|\u200b|\u200d/u.test(char)) continue;
    width += isWide(code) ? 2 : 1;
  }
  return width;
}

function isWide(code: number): boolean {
  return (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf && code !== 0x303f) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1f64f) ||
    (code >= 0x1f900 && code <= 0x1f9ff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  );
}
