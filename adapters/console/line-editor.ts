import { createInterface, type Interface } from "node:readline";
import { PromptArea } from "./prompt-area.ts";

/** Lines typed before these are forgotten by Up. */
const HISTORY_SIZE = 200;

/** What the person types in front of their line: nothing, so the chat reads like a transcript. */
const PROMPT = "";

/** An input the terminal can hand over key by key (a TTY's `ReadStream`), not line by line. */
export function canGoRaw(input: NodeJS.ReadableStream): input is NodeJS.ReadableStream & { isTTY: true; setRawMode(mode: boolean): unknown } {
  return (input as { isTTY?: boolean }).isTTY === true && typeof (input as { setRawMode?: unknown }).setRawMode === "function";
}

export interface LineEditorOptions {
  /** A line the person entered (Enter), as typed. */
  onLine(line: string): void;
  /** The input ended: Ctrl-D on an empty line, or the terminal went away. */
  onEnd(): void;
}

/** The person's line editor and the prompt area the bot prints above. */
export interface LineEditor {
  /** Where the bot writes: above the line being edited. */
  readonly area: PromptArea;
  /** Erases the unsent line, gives the terminal back its line mode and stops reading. */
  close(): void;
}

/**
 * Reads the terminal in raw mode through readline, so the person gets what a shell gives:
 * arrows, Home/End, Ctrl-A/E/U/W/K, Up and Down through earlier lines, Ctrl-L to clear the
 * screen. Raw mode also lifts the terminal's own line limit (4095 bytes in Linux's cooked
 * mode cuts a long paste short, silently): every character reaches the bot, which answers
 * a too-long message with the limit.
 */
export function openLineEditor(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, options: LineEditorOptions): LineEditor {
  const reader: Interface = createInterface({ input, output, terminal: true, prompt: PROMPT, historySize: HISTORY_SIZE, removeHistoryDuplicates: true, tabSize: 4 });
  const area = new PromptArea(output, reader);
  reader.on("line", (line) => {
    area.lineEntered();
    options.onLine(line);
  });
  reader.on("close", () => options.onEnd());
  // In raw mode Ctrl-C is a key, not a signal: send the signal the terminal would have sent,
  // so the program stops as it does on Ctrl-C anywhere else (tasks resume at the next start).
  reader.on("SIGINT", () => process.kill(process.pid, "SIGINT"));
  // Listeners run in the order added: readline has cleared the screen when this one runs.
  const onKeypress = (_text: unknown, key: { ctrl?: boolean; name?: string } | undefined) => {
    if (key?.ctrl && key.name === "l") area.cleared();
  };
  input.on("keypress", onKeypress);
  reader.prompt();
  let closed = false;
  return {
    area,
    close() {
      if (closed) return;
      closed = true;
      input.off("keypress", onKeypress);
      area.close();
      reader.close();
    },
  };
}
