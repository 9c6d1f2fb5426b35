import { LIMITS } from "./limits.ts";
import { snowflake, type Json } from "./protocol.ts";
import type { Problem } from "./schema.ts";

/**
 * Application commands: Discord's documented rules a bulk overwrite must follow beyond the
 * spec's types and lengths (names `^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$` in lower case for
 * slash commands, descriptions 1–100 for slash commands and empty for user/message commands,
 * unique names, at most 25 options, required options first, subcommands not mixed with other
 * options, no choices with autocomplete, 4,000 characters per command, 100 slash commands),
 * and the commands as Discord stores and answers them.
 */

const NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
const str = (value: unknown): string => (typeof value === "string" ? value : "");

function checkName(name: unknown, path: string): Problem[] {
  const text = str(name);
  if (!NAME.test(text)) return [{ path, code: "APPLICATION_COMMAND_INVALID_NAME", message: `Command name is invalid: "${text}" (1–32 letters, digits, - _ ').` }];
  if (text !== text.toLowerCase()) return [{ path, code: "APPLICATION_COMMAND_INVALID_NAME", message: `Command name must be lower case: "${text}".` }];
  return [];
}

function checkDescription(description: unknown, path: string): Problem[] {
  const length = [...str(description)].length;
  return length < 1 || length > LIMITS.commandDescription ? [{ path, code: "BASE_TYPE_BAD_LENGTH", message: `Must be between 1 and ${LIMITS.commandDescription} in length.` }] : [];
}

function checkOptions(options: Json[], path: string, level: "command" | "group" | "subcommand"): Problem[] {
  const problems: Problem[] = [];
  if (options.length > LIMITS.commandOptions) problems.push({ path, code: "BASE_TYPE_MAX_LENGTH", message: `Must be ${LIMITS.commandOptions} or fewer in length.` });
  const nested = options.filter((o) => o.type === 1 || o.type === 2).length;
  if (level === "command" && nested > 0 && nested < options.length) problems.push({ path, code: "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", message: "Subcommands and groups can't be mixed with other options." });
  if (level === "group" && nested !== options.length || options.some((o) => o.type === 2 && level !== "command")) problems.push({ path, code: "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", message: "A subcommand group holds subcommands only; groups don't nest." });
  if (level === "subcommand" && nested > 0) problems.push({ path, code: "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", message: "A subcommand can't hold subcommands." });
  const names = new Set<string>();
  let optionalSeen = false;
  options.forEach((option, i) => {
    const p = `${path}[${i}]`;
    problems.push(...checkName(option.name, `${p}.name`), ...checkDescription(option.description, `${p}.description`));
    if (names.has(str(option.name))) problems.push({ path: `${p}.name`, code: "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS", message: `Option name "${str(option.name)}" is already used.` });
    names.add(str(option.name));
    if (option.type !== 1 && option.type !== 2) {
      if (option.required === true && optionalSeen) problems.push({ path: `${p}.required`, code: "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", message: "Required options must be placed before non-required options" });
      if (option.required !== true) optionalSeen = true;
    }
    if (option.autocomplete === true && Array.isArray(option.choices) && option.choices.length > 0) problems.push({ path: `${p}.autocomplete`, code: "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_AND_CHOICES", message: "Autocomplete can't be set with choices." });
    if (Array.isArray(option.options)) problems.push(...checkOptions(option.options as Json[], `${p}.options`, option.type === 2 ? "group" : "subcommand"));
  });
  return problems;
}

/** Characters that count towards a command's 4,000: names, descriptions, choice names and values, of every level. */
function characters(node: Json): number {
  const own = [...str(node.name)].length + [...str(node.description)].length;
  const choices = Array.isArray(node.choices) ? (node.choices as Json[]).reduce((n, c) => n + [...str(c.name)].length + [...String(c.value ?? "")].length, 0) : 0;
  const options = Array.isArray(node.options) ? (node.options as Json[]).reduce((n, o) => n + characters(o), 0) : 0;
  return own + choices + options;
}

/** Problems of a bulk overwrite's body (an array of commands). */
export function checkCommands(body: unknown): Problem[] {
  if (!Array.isArray(body)) return [];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  (body as Json[]).forEach((command, i) => {
    const type = typeof command.type === "number" ? command.type : 1;
    if (type === 1) problems.push(...checkName(command.name, `${i}.name`), ...checkDescription(command.description, `${i}.description`));
    else if (str(command.description) !== "") problems.push({ path: `${i}.description`, code: "APPLICATION_COMMAND_DESCRIPTION_INVALID", message: "User and message commands have an empty description." });
    const key = `${type} ${str(command.name)}`;
    if (seen.has(key)) problems.push({ path: `${i}.name`, code: "APPLICATION_COMMANDS_DUPLICATE_NAME", message: `Application command names must be unique ("${str(command.name)}").` });
    seen.add(key);
    if (Array.isArray(command.options)) problems.push(...checkOptions(command.options as Json[], `${i}.options`, "command"));
    if (characters(command) > LIMITS.commandTotal) problems.push({ path: `${i}`, code: "APPLICATION_COMMAND_TOO_LARGE", message: `Command exceeds maximum size (${LIMITS.commandTotal}).` });
  });
  const slash = (body as Json[]).filter((c) => (c.type ?? 1) === 1).length;
  if (slash > LIMITS.globalChatInputCommands) problems.push({ path: "", code: "BASE_TYPE_MAX_LENGTH", message: `At most ${LIMITS.globalChatInputCommands} slash commands.` });
  return problems;
}

/** The commands as Discord stores them after a bulk overwrite: ids kept for commands of the same name and type, a new version each. */
export function storedCommands(body: Json[], previous: Json[], applicationId: string, guildId?: string): Json[] {
  return body.map((command) => {
    const type = typeof command.type === "number" ? command.type : 1;
    const before = previous.find((p) => p.name === command.name && p.type === type);
    const { id: _given, ...fields } = command;
    return {
      application_id: applicationId, default_member_permissions: null, name_localizations: null, description_localizations: null, dm_permission: true,
      contexts: null, integration_types: [0], nsfw: false, ...fields,
      id: before?.id ?? snowflake(), version: snowflake(), type, description: str(command.description), ...(guildId ? { guild_id: guildId } : {}),
    };
  });
}
