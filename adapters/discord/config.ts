import { z } from "zod";
import { parseHttpUrl, parseSection } from "../../src/port/index.ts";
import { ConfigError } from "../../src/errors.ts";

/** Discord's REST API (discord.js adds `/v10`). */
export const DEFAULT_API_URL = "https://discord.com/api";

/** The environment variables the Discord adapter reads; the token never comes from the config file. */
export const TOKEN_ENV = "DISCORD_BOT_TOKEN";
export const API_URL_ENV = "DISCORD_API_URL";

/**
 * The `adapters.discord` section of the configuration file. Every field is optional and
 * documents its default; the bot token comes from the environment.
 */
export const discordConfigSchema = z
  .object({
    /** Whether the bot runs on Discord. Default false. */
    enabled: z.boolean().default(false),
    /** Register the slash commands in this guild only (instant, for development); without it, globally. */
    guildId: z.string().regex(/^\d{5,25}$/, "expected a guild (server) id, e.g. 123456789012345678").optional(),
    /** Minimum interval between two edits of one message (progress), in ms. Default 1000. */
    editIntervalMs: z.number().int().min(0).max(60_000).default(1000),
    /** Longest time one REST request may take, in s (@discordjs/rest retries within it). Default 15. */
    requestTimeoutSeconds: z.number().positive().default(15),
    /** Retries of a request answered with 5xx or a network failure (@discordjs/rest). Default 3. */
    retries: z.number().int().min(0).max(10).default(3),
  })
  .strict();

export type DiscordConfigInput = z.input<typeof discordConfigSchema>;
export type DiscordConfig = z.output<typeof discordConfigSchema>;

const SECRET_KEYS = ["token", "botToken", "bot_token", "clientSecret", "client_secret"];

/** Validates the `adapters.discord` section; errors name each field (`adapters.discord.guildId`). */
export function parseDiscordConfig(section: unknown, where = "adapters.discord"): DiscordConfig {
  if (section !== null && typeof section === "object") {
    const secret = SECRET_KEYS.find((key) => key in section);
    if (secret) throw new ConfigError(`${where}.${secret}: secrets never go in the configuration file; remove it and set ${TOKEN_ENV} in the environment.`);
  }
  return parseSection(discordConfigSchema, section, where);
}

/** A bot token as the developer portal gives it: three base64url parts joined by dots. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}$/;

/** Throws a ConfigError unless `token` looks like a bot token; the message never contains it. */
export function checkToken(token: string): void {
  if (!TOKEN_SHAPE.test(token)) {
    throw new ConfigError(`${TOKEN_ENV} does not look like a Discord bot token (three parts joined by dots): copy it again from the developer portal (Bot → Reset Token).`);
  }
}

/** Reads DISCORD_BOT_TOKEN and DISCORD_API_URL. Errors name the variable and never echo its value. */
export function readDiscordEnv(env: NodeJS.ProcessEnv): { token: string; apiUrl: string } {
  const token = env[TOKEN_ENV]?.trim();
  if (!token) throw new ConfigError(`${TOKEN_ENV} is not set: create an application at https://discord.com/developers/applications, then Bot → Reset Token, and export ${TOKEN_ENV}=<the token> (see adapters/discord/README.md).`);
  checkToken(token);
  return { token, apiUrl: parseApiUrl(env[API_URL_ENV], API_URL_ENV) };
}

/** The REST base URL without a trailing slash (discord.js appends `/v10/...`). */
export function parseApiUrl(value: string | undefined, name: string): string {
  return parseHttpUrl(value, name, DEFAULT_API_URL)?.replace(/\/+$/, "") ?? DEFAULT_API_URL;
}
