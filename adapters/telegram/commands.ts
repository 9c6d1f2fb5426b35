/** A command shown in Telegram's command menu (setMyCommands). */
export interface BotCommandOption {
  /** Without the slash, e.g. `report`. */
  command: string;
  description: string;
}

/** chatflow's built-in commands, as the menu shows them. */
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
 * The menu: the built-ins, then `extra` (e.g. routed workflow commands; an extra with a
 * built-in's name replaces its description). Names Telegram does not accept (upper case,
 * `-`, over 32 characters) are left out of the menu and returned in `skipped`: such
 * commands still work when typed.
 */
export function menuCommands(extra: readonly BotCommandOption[] = []): { commands: BotCommandOption[]; skipped: string[] } {
  const byName = new Map<string, BotCommandOption>();
  const skipped: string[] = [];
  for (const option of [...BUILTIN_BOT_COMMANDS, ...extra]) {
    const command = option.command.replace(/^\//, "");
    if (!NAME.test(command)) {
      skipped.push(command);
      continue;
    }
    const description = option.description.trim().slice(0, 256) || command;
    byName.set(command, { command, description });
  }
  const commands = [...byName.values()];
  for (const dropped of commands.splice(MAX_COMMANDS)) skipped.push(dropped.command);
  return { commands, skipped };
}
