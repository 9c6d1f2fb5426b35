import type { CommandInfo } from "../../src/port/index.ts";

/** A command shown in Telegram's command menu (setMyCommands). */
export interface BotCommandOption {
  /** Without the slash, e.g. `report`. */
  command: string;
  description: string;
}

/** chatflow's built-in commands, for a menu when the engine gave none (the adapter used on its own). */
export const BUILTIN_BOT_COMMANDS: readonly BotCommandOption[] = [
  { command: "help", description: "What I can do" },
  { command: "new", description: "Start a fresh session" },
  { command: "cancel", description: "Cancel the current task" },
  { command: "status", description: "The current task: progress and what it waits for" },
  { command: "history", description: "The last messages of this session" },
  { command: "tasks", description: "Your recent tasks" },
];

// Telegram's rules for BotCommand.
const NAME = /^[a-z0-9_]{1,32}$/;
const MAX_COMMANDS = 100;

/**
 * The commands chatflow answers here: the engine's (built-ins, then routed workflow
 * commands), or the built-ins when the engine gave none, then `extra`. A later entry with
 * the same name replaces an earlier one's description.
 */
export function chatflowCommands(engine: readonly CommandInfo[] | undefined, extra: readonly BotCommandOption[] = []): BotCommandOption[] {
  const base = engine ? engine.map((c) => ({ command: c.name, description: capitalize(c.description) })) : BUILTIN_BOT_COMMANDS;
  const byName = new Map<string, BotCommandOption>();
  for (const option of [...base, ...extra]) {
    const command = option.command.replace(/^\//, "");
    byName.set(command, { command, description: option.description });
  }
  return [...byName.values()];
}

/**
 * The menu: names Telegram does not accept (upper case, `-`, over 32 characters) are left out
 * and returned in `skipped` (such commands still work when typed); at most 100 commands.
 */
export function menuCommands(commands: readonly BotCommandOption[]): { commands: BotCommandOption[]; skipped: string[] } {
  const menu: BotCommandOption[] = [];
  const skipped: string[] = [];
  for (const { command, description } of commands) {
    if (!NAME.test(command)) skipped.push(command);
    else menu.push({ command, description: description.trim().slice(0, 256) || command });
  }
  for (const dropped of menu.splice(MAX_COMMANDS)) skipped.push(dropped.command);
  return { commands: menu, skipped };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
