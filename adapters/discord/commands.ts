import type { CommandInfo } from "../../src/port/index.ts";

/** Discord's application command option types chatflow uses. */
const SUB_COMMAND = 1;
const STRING = 3;
const INTEGER = 4;

/** An application command option, as the REST API takes it. */
export interface CommandOption {
  type: number;
  name: string;
  description: string;
  required?: boolean;
  min_value?: number;
  max_value?: number;
  max_length?: number;
  choices?: Array<{ name: string; value: string }>;
  options?: CommandOption[];
}

/** A slash command, as bulk overwrite takes it. */
export interface SlashCommand {
  name: string;
  description: string;
  type: 1;
  options?: CommandOption[];
  /** Usable in DMs with the bot and in guilds (0 guild, 1 bot DM). */
  contexts: number[];
  /** Installed to guilds. */
  integration_types: number[];
}

/** The engine's built-ins, for an adapter started without the engine's list (used on its own). */
export const DEFAULT_COMMANDS: readonly CommandInfo[] = [
  { name: "help", description: "what I can do", usage: "/help", kind: "builtin" },
  { name: "new", description: "start a fresh session", usage: "/new", kind: "builtin" },
  { name: "cancel", description: "cancel the current task", usage: "/cancel", kind: "builtin" },
  { name: "status", description: "the current task: progress and what it waits for", usage: "/status", kind: "builtin" },
  { name: "history", description: "the last messages of this session", usage: "/history [n]", kind: "builtin" },
  { name: "tasks", description: "your recent tasks", usage: "/tasks", kind: "builtin" },
];

// Discord's rules for names and descriptions.
const NAME = /^[-_\p{Ll}\p{Lo}\p{N}]{1,32}$/u;
const DESCRIPTION_MAX = 100;

const text = (name: string, description: string, required = false): CommandOption => ({ type: STRING, name, description, required, max_length: 6000 });

/** The typed options of the built-ins; anything else takes its arguments as one `args` string. */
const BUILTIN_OPTIONS: Record<string, CommandOption[]> = {
  help: [],
  new: [],
  cancel: [],
  status: [],
  tasks: [],
  history: [{ type: INTEGER, name: "count", description: "How many messages (1-200, default 10)", min_value: 1, max_value: 200 }],
  schedule: [
    {
      type: SUB_COMMAND,
      name: "add",
      description: "Post text, or run a command, on a cron schedule in this channel",
      options: [
        text("cron", "5 fields (minute hour day month weekday) or 6 with seconds, e.g. 0 9 * * 1-5", true),
        text("post", "What to post: text, or a command and its input such as /demo a summary", true),
        text("timezone", "IANA timezone, e.g. Europe/Berlin (default: the bot's)"),
        { type: STRING, name: "missed", description: "Slots missed while the bot was down", choices: ["skip", "latest", "all"].map((v) => ({ name: v, value: v })) },
      ],
    },
    { type: SUB_COMMAND, name: "list", description: "The schedules of this channel" },
    ...(["pause", "resume", "remove"] as const).map((verb) => ({ type: SUB_COMMAND, name: verb, description: `${verb[0]!.toUpperCase()}${verb.slice(1)} a schedule`, options: [text("id", "The schedule's id (see /schedule list)", true)] })),
  ],
};

/**
 * The slash commands for the engine's commands: typed options for the built-ins (`/history
 * count:5`, `/schedule add cron:… post:…`), a `text` option for routed workflow commands
 * (`/demo text:owls`). Names Discord does not accept are left out and returned in `skipped`.
 */
export function slashCommands(commands: readonly CommandInfo[]): { commands: SlashCommand[]; skipped: string[] } {
  const out: SlashCommand[] = [];
  const skipped: string[] = [];
  for (const command of commands) {
    if (!NAME.test(command.name)) {
      skipped.push(command.name);
      continue;
    }
    const options = command.kind === "workflow" ? [text("text", "Your request")] : (BUILTIN_OPTIONS[command.name] ?? [text("args", "Arguments")]);
    out.push({
      name: command.name,
      description: truncate(capitalize(command.description), DESCRIPTION_MAX),
      type: 1,
      ...(options.length > 0 ? { options } : {}),
      contexts: [0, 1],
      integration_types: [0],
    });
  }
  return { commands: out, skipped };
}

/** An option as an interaction carries it. */
export interface ReceivedOption {
  name: string;
  type: number;
  value?: string | number | boolean;
  options?: ReceivedOption[];
}

/**
 * The engine's `args` for a slash command's options: the text of a workflow command, the
 * count of /history, and /schedule's subcommand in the syntax the engine reads
 * (`add "0 9 * * *" tz=Europe/Berlin missed=all Stand-up`).
 */
export function argsOf(name: string, options: readonly ReceivedOption[] = []): string {
  const value = (key: string, from = options) => from.find((o) => o.name === key)?.value;
  if (name === "schedule") {
    const sub = options.find((o) => o.type === SUB_COMMAND);
    if (!sub) return "";
    const inner = sub.options ?? [];
    if (sub.name !== "add") return [sub.name, value("id", inner)].filter((v) => v !== undefined).join(" ");
    const parts = ["add", `"${String(value("cron", inner) ?? "").replace(/"/g, "")}"`];
    const timezone = value("timezone", inner);
    if (timezone !== undefined) parts.push(`tz=${String(timezone)}`);
    const missed = value("missed", inner);
    if (missed !== undefined) parts.push(`missed=${String(missed)}`);
    parts.push(String(value("post", inner) ?? ""));
    return parts.join(" ").trim();
  }
  const first = value("text") ?? value("count") ?? value("args");
  return first === undefined ? "" : String(first).trim();
}

function capitalize(value: string): string {
  return value.charAt(0).toUpperCase() + value.slice(1);
}

function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}
