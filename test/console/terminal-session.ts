import pty from "@lydell/node-pty";
import xterm from "@xterm/headless";

/** Keys as a terminal sends them (xterm, normal cursor mode). */
export const KEY = {
  enter: "\r",
  backspace: "\x7f",
  up: "\x1b[A",
  down: "\x1b[B",
  right: "\x1b[C",
  left: "\x1b[D",
  home: "\x1b[H",
  end: "\x1b[F",
  ctrlA: "\x01",
  ctrlC: "\x03",
  ctrlD: "\x04",
  ctrlE: "\x05",
  ctrlL: "\x0c",
  ctrlU: "\x15",
  ctrlW: "\x17",
} as const;

/** A program running in a pseudo-terminal, its output drawn on a headless terminal emulator. */
export interface TerminalSession {
  /** Sends keystrokes (or a paste) to the program, as typed into the terminal. */
  type(keys: string): void;
  /**
   * Presses keys one at a time, each once the screen showed the one before (the text or the
   * cursor changed), as a person types: readline takes several keys arriving in one read as
   * a paste (and Node 20's readline scrambles a paste inserted mid-line). Each key must
   * change what is shown.
   */
  press(...keys: string[]): Promise<void>;
  /** The screen rows as the person sees them (trailing spaces dropped). */
  rows(): string[];
  /** Everything drawn so far, scrollback and screen, one string per line (rows the window wrapped are joined), joined with "\n". */
  text(): string;
  /** The cursor position on the screen, 0-based. */
  cursor(): { row: number; col: number };
  /** Resolves once `check(text())` holds, polling the emulator; rejects after `timeoutMs` with the screen. */
  waitFor(check: (text: string) => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code once the program ended. */
  readonly exited: Promise<number>;
  /** Sends a signal to the program (SIGKILL to clean up). */
  kill(signal?: string): void;
}

/** A terminal window: the headless emulator that draws what programs print. */
export type TerminalWindow = InstanceType<typeof xterm.Terminal>;

/** A window of 80×24 with a long scrollback. */
export function newWindow(cols = 80, rows = 24): TerminalWindow {
  return new xterm.Terminal({ cols, rows, scrollback: 5000, allowProposedApi: true });
}

export interface TerminalOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The window to draw in; pass the one of a program that ended to run the next in the same window. Default: a new 80×24 one. */
  window?: TerminalWindow;
}

/**
 * Runs `file args` in a fresh pseudo-terminal the size of the window, as a person's terminal
 * window would, and renders what it prints with a headless xterm: assertions are on the screen the
 * person would see after every escape sequence took effect, not on the raw bytes.
 */
export function openTerminal(file: string, args: string[], options: TerminalOptions): TerminalSession {
  const term = options.window ?? newWindow();
  const { cols, rows } = term;
  const child = pty.spawn(file, args, { name: "xterm-256color", cols, rows, cwd: options.cwd, env: options.env as Record<string, string> });
  // xterm parses writes asynchronously: count the chunks it has not drawn yet.
  let pending = 0;
  child.onData((data) => {
    pending++;
    term.write(data, () => pending--);
  });
  const exited = new Promise<number>((resolve) => child.onExit(({ exitCode }) => resolve(exitCode)));
  let done = false;
  void exited.then(() => (done = true));

  const line = (index: number) => term.buffer.active.getLine(index)?.translateToString(true) ?? "";
  const text = () => {
    const buffer = term.buffer.active;
    const all: string[] = [];
    for (let index = 0; index < buffer.length; index++) {
      // A row the terminal wrapped onto goes on the line above: the program wrote one line.
      if (buffer.getLine(index)?.isWrapped && all.length > 0) all[all.length - 1] += line(index);
      else all.push(line(index));
    }
    while (all.length > 0 && all.at(-1) === "") all.pop();
    return all.join("\n");
  };
  const snapshot = () => `${term.buffer.active.cursorY}:${term.buffer.active.cursorX}:${text()}`;
  const session: TerminalSession = {
    type(keys) {
      if (!done) child.write(keys);
    },
    async press(...keys) {
      // Text is typed a character at a time; an escape sequence is one key.
      for (const key of keys.flatMap((key) => (key.startsWith("\x1b") ? [key] : Array.from(key)))) {
        await session.waitFor(() => true, "the screen to settle");
        const before = snapshot();
        child.write(key);
        await session.waitFor(() => snapshot() !== before, `the screen to show ${JSON.stringify(key)}`);
      }
    },
    rows() {
      const buffer = term.buffer.active;
      return Array.from({ length: rows }, (_, row) => line(buffer.baseY + row));
    },
    text,
    cursor() {
      const buffer = term.buffer.active;
      return { row: buffer.cursorY, col: buffer.cursorX };
    },
    async waitFor(check, what, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (pending === 0 && check(text())) return;
        if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}. The screen:\n${session.rows().join("\n")}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    exited,
    kill(signal = "SIGKILL") {
      if (!done) child.kill(signal);
    },
  };
  return session;
}
