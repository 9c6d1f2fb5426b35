import { userInfo } from "node:os";
import { createInterface, type Interface } from "node:readline";
import type { Adapter, AdapterCapabilities, InboundHandler } from "../../src/port/index.ts";
import type { AdapterFactoryContext } from "../../src/port/index.ts";
import { parseSection } from "../../src/port/index.ts";
import { consoleConfigSchema } from "./config.ts";
import { ChatflowError, ConfigError } from "../../src/errors.ts";
import type { Address, OutboundMessage, SentMessage } from "../../src/model.ts";
import { parseLine, TypedAnswers } from "./input.ts";
import { canGoRaw, openLineEditor, type LineEditor } from "./line-editor.ts";
import { LineQueue } from "./line-queue.ts";
import { answerLook, isPlainReply, isProgressMessage, renderMessage, renderProgressLine } from "./render.ts";
import { ConsoleScreen } from "./screen.ts";
import { createTextStyle } from "./style.ts";

export interface ConsoleAdapterOptions {
  /** Where the person types. Default: `process.stdin`. */
  input?: NodeJS.ReadableStream;
  /** Where the bot writes. Default: `process.stdout`. */
  output?: NodeJS.WritableStream;
  /**
   * Whether `output` is an interactive terminal: progress is redrawn in place and lines go
   * straight to the bot. When false (pipe mode), each line waits for the bot's answer to the
   * previous one, and progress is printed as plain lines. Default: `output.isTTY`.
   */
  tty?: boolean;
  /** The user id in event addresses. Default: the OS user name (`os.userInfo().username`). */
  user?: string;
  /** The channel id in event addresses; one session per channel. Default: `"local"`. */
  channel?: string;
  /** ANSI colors and bold/italic. Default: `tty`, unless the `NO_COLOR` environment variable is set. */
  color?: boolean;
}

/** The console adapter: a person chats with the bot in the terminal. */
export type ConsoleAdapter = Adapter & {
  /** Resolves when input ended (EOF) and the bot has answered the last line; also on `stop()`. */
  readonly ended: Promise<void>;
  /**
   * Prints a line of the program's own (the CLI's banner) the way the bot's lines are printed:
   * below a progress line left open (ended first, never glued to it) and above the line the
   * person is typing. Write to the terminal through this, not `process.stdout`, once started.
   */
  print(text: string): void;
};

/**
 * Creates the console adapter (platform `console`). Lines starting with `/` become commands,
 * typed answers (`1`, a choice label, `approve`, `reject <reason>`, `edit`) become actions on
 * the last question or review, anything else a message.
 */
export function createConsoleAdapter(options: ConsoleAdapterOptions = {}): ConsoleAdapter {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const tty = options.tty ?? isTty(output);
  const style = createTextStyle(options.color ?? (tty && !process.env.NO_COLOR));
  const address: Address = {
    platform: "console",
    channel: nonEmpty("channel", options.channel ?? "local"),
    user: nonEmpty("user", options.user ?? defaultUser()),
    // One person at the terminal: a direct chat with the bot.
    direct: true,
  };
  const capabilities: AdapterCapabilities = { editIntervalMs: tty ? 100 : 250, maxTextLength: 100_000, persistentMessages: false };
  // Start time in ids keeps them unique across restarts (the engine de-duplicates on event ids).
  const idBase = `console-${Date.now()}`;
  let events = 0;
  let messages = 0;
  // The bot's output goes straight to the terminal, or above the line editor once one runs.
  let writer: { write(text: string): unknown } = output;
  const screen = new ConsoleScreen({ write: (text) => writer.write(text) }, tty);
  const look = answerLook(style);
  const answers = new TypedAnswers();
  let handler: InboundHandler | undefined;
  let reader: Interface | undefined;
  let editor: LineEditor | undefined;
  let stopping: Promise<void> | undefined;

  const queue = new LineQueue({
    paced: !tty,
    async deliver(line) {
      const payload = parseLine(line, answers);
      // Piped lines are not echoed by a terminal: show them so the transcript reads as a chat.
      if (!tty) screen.print([style.dim("you> ") + line]);
      await handler?.({ ...payload, id: `${idBase}-${++events}`, address: { ...address }, raw: { line } });
    },
    onError(error, line) {
      const reason = error instanceof Error ? error.message : String(error);
      screen.print([style.failure(`! could not handle "${line}": ${reason}`)]);
    },
  });

  function show(id: string, message: OutboundMessage): void {
    answers.observe(message);
    if (isProgressMessage(message)) {
      // On a terminal, "waiting" printed below the question it waits for adds nothing and
      // would leave an open line where the person types their answer.
      const belowQuestion = tty && message.progress?.state === "waiting" && !screen.isOpen(id);
      const { state } = message.progress;
      // Running on (or queued) is no news while the task's answer is being written below it.
      const news = state !== "running" && state !== "queued";
      if (!belowQuestion) screen.progress(id, renderProgressLine(message, style, tty ? columns(output) : undefined), news);
    } else if (isPlainReply(message)) {
      // A task's reply may be a streamed answer, edited as it grows: its line stays open until
      // something else is printed (at the latest the task's final progress). Any other reply
      // (a command's answer, a private notice) is complete: its line is ended at once.
      screen.answer(id, message.text, look, message.taskId === undefined);
    } else screen.print(renderMessage(message, style), id);
    queue.botSent(message.kind);
  }

  return {
    platform: "console",
    capabilities,
    ended: queue.ended,

    print(text) {
      screen.print(text.replace(/\n$/, "").split("\n"));
    },

    async start(onEvent) {
      if (handler) throw new ChatflowError("validation", "The console adapter is already started: call start() once.");
      handler = onEvent;
      if (tty && canGoRaw(input)) {
        editor = openLineEditor(input, output, {
          onLine(line) {
            screen.inputEchoed();
            if (line.trim() !== "") queue.push(line.trim());
          },
          onEnd: () => queue.endInput(),
        });
        writer = editor.area;
        return;
      }
      const echoes = isTty(input);
      reader = createInterface({ input, crlfDelay: Infinity, terminal: false });
      reader.on("line", (line) => {
        if (echoes) screen.inputEchoed();
        if (line.trim() !== "") queue.push(line.trim());
      });
      reader.on("close", () => queue.endInput());
    },

    stop() {
      stopping ??= (async () => {
        editor?.close();
        reader?.close();
        await queue.close();
        screen.end();
      })();
      return stopping;
    },

    async send(_to: Address, message: OutboundMessage): Promise<SentMessage> {
      const id = `${idBase}-m${++messages}`;
      show(id, message);
      return { id };
    },

    async edit(_to: Address, messageId: string, message: OutboundMessage): Promise<void> {
      show(messageId, message);
    },

    /** One person at the terminal: a private notice is a reply on their screen. */
    async notify(_event, text): Promise<boolean> {
      show(`${idBase}-m${++messages}`, { kind: "reply", text });
      return true;
    },
  };
}

function isTty(stream: NodeJS.ReadableStream | NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

function columns(output: NodeJS.WritableStream): number | undefined {
  const value = (output as { columns?: number }).columns;
  return typeof value === "number" && value > 0 ? value : undefined;
}

function defaultUser(): string {
  try {
    return userInfo().username;
  } catch {
    // userInfo() throws where the uid has no passwd entry (some containers).
    return process.env.USER ?? process.env.USERNAME ?? "user";
  }
}

function nonEmpty(option: "channel" | "user", value: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new ConfigError(`Expected console adapter option \`${option}\` to be a non-empty string, got ${JSON.stringify(value)}.`);
  }
  return value;
}

/** The console adapter the `adapters.console` section describes (for the adapter table). */
export function fromConfig(section: unknown, _env: NodeJS.ProcessEnv, _context: AdapterFactoryContext): ConsoleAdapter {
  const config = parseSection(consoleConfigSchema, section, "adapters.console");
  return createConsoleAdapter({ channel: config.channel });
}
