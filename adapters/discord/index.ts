import { createHash } from "node:crypto";
import { Client, GatewayIntentBits, Partials } from "discord.js";
import type { Adapter } from "../../src/port/index.ts";
import type { AdapterFactoryContext } from "../../src/port/index.ts";
import { ConfigError } from "../../src/errors.ts";
import { createLogger, type Logger } from "../../src/logger.ts";
import { ActionKeys } from "../../src/port/index.ts";
import { checkToken, parseApiUrl, parseDiscordConfig, readDiscordEnv, TOKEN_ENV, type DiscordConfig, type DiscordConfigInput } from "./config.ts";
import { Interactions } from "./interactions.ts";
import { DiscordLifecycle } from "./lifecycle.ts";
import { FormCheck } from "./forms.ts";
import { DiscordOutbound } from "./outbound.ts";
import { PrivateReplies } from "./private-replies.ts";
import { DiscordReceiver } from "./receiver.ts";
import { LIMITS } from "./render.ts";

export { discordConfigSchema, type DiscordConfig, type DiscordConfigInput } from "./config.ts";

/** The longest engine action id a button carries as it is: room is left for `modal:edit:` in a modal's custom_id. */
const CUSTOM_ID_PAYLOAD_MAX = LIMITS.customId - "modal:edit:".length;

export interface DiscordAdapterOptions extends Omit<DiscordConfigInput, "enabled"> {
  /** The bot token (chatflow reads it from DISCORD_BOT_TOKEN). Not with `client`. */
  token?: string;
  /** The REST base URL (DISCORD_API_URL); the gateway URL then comes from GET /gateway/bot. Default `https://discord.com/api`. */
  apiUrl?: string;
  /**
   * Plugin mode: a discord.js `Client` you already run. chatflow registers its slash commands
   * beside yours (never wiping them), answers only its own commands, buttons and modals, and
   * never logs your client in or destroys it.
   */
  client?: Client;
  /** Logger; default: warnings and errors to stderr. */
  logger?: Logger;
}

/** The Discord adapter: the Adapter port. */
export interface DiscordAdapter extends Adapter {
  readonly platform: "discord";
}

function ownClient(config: DiscordConfig, apiUrl: string): Client {
  return new Client({
    // No privileged intent: slash commands and buttons need none, DMs and messages that mention
    // the bot carry their text without Message Content.
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.DirectMessages, GatewayIntentBits.GuildMessages],
    partials: [Partials.Channel],
    rest: { api: apiUrl, timeout: Math.round(config.requestTimeoutSeconds * 1000), retries: config.retries },
    // Nothing chatflow posts pings anyone, whatever the text.
    allowedMentions: { parse: [] },
  });
}

/**
 * Creates the Discord adapter (platform `discord`) on discord.js: slash commands deferred at
 * once with their original response as the task's status message, edited in place; the
 * answers to /help, /status, /history, /tasks and /schedule list ephemeral; buttons
 * acknowledged at once; a review's Edit and a free-text answer in modals (a form nobody waits
 * for any more is told so privately); refusals as ephemeral replies; after the 15-minute
 * interaction token, channel messages (or a DM).
 * With `client`, chatflow joins a client you run as a plugin. See README.md in this folder.
 */
export function createDiscordAdapter(options: DiscordAdapterOptions): DiscordAdapter {
  const { token: rawToken, apiUrl: rawApiUrl, client: hostClient, logger, ...section } = options;
  const config = parseDiscordConfig({ enabled: true, ...section }, "createDiscordAdapter options");
  const token = (rawToken ?? hostClient?.token ?? "").trim();
  if (!token && !hostClient) throw new ConfigError(`The Discord bot token is empty: set ${TOKEN_ENV}.`);
  if (token) checkToken(token);
  const apiUrl = parseApiUrl(rawApiUrl, "apiUrl");
  const log = (logger ?? createLogger({ level: "warn", file: "-" })).child({ adapter: "discord" });
  const client = hostClient ?? ownClient(config, apiUrl);
  const interactions = new Interactions();
  const keys = new ActionKeys((id) => id.length <= CUSTOM_ID_PAYLOAD_MAX);
  let lifecycle: DiscordLifecycle | undefined;
  const outbound = new DiscordOutbound({ client, interactions, keys, token, botId: () => lifecycle?.botId });
  const replies = new PrivateReplies();
  const receiver = new DiscordReceiver({ outbound, interactions, keys, replies, forms: new FormCheck(), log, plugin: hostClient !== undefined });
  const gatewayClient = hostClient ? undefined : () => ownClient(config, apiUrl);
  lifecycle = new DiscordLifecycle({ client, receiver, config, token, apiUrl, log, plugin: hostClient !== undefined, ...(gatewayClient ? { gatewayClient } : {}) });
  const started = lifecycle;
  return {
    platform: "discord",
    // Standalone, one process of several holds the gateway (two sessions on a shard both receive every event).
    ...(hostClient ? {} : { singleReceiver: { name: `discord:gateway:${botIdOf(token)}`, receive: (on: boolean) => started.receive(on) } }),
    capabilities: { editIntervalMs: config.editIntervalMs, maxTextLength: LIMITS.content, persistentMessages: true },
    start: (handler, context) => started.start(handler, context),
    stop: () => started.stop(),
    connected: () => started.connected,
    send(address, message) {
      // The answer to /help, /status, /history, /tasks or /schedule list: that person's alone.
      const command = replies.answering(address, message);
      return command ? outbound.answerPrivately(command, message) : outbound.send(address, message);
    },
    edit: (address, messageId, message) => outbound.edit(address, messageId, message),
    recall: (address, key) => outbound.recall(address, key),
    notify: (event, text, notice) => receiver.notify(event, text, notice),
  };
}

/** The bot's user id from its token (the token's first part is it, base64): names the gateway's lead without the secret. */
function botIdOf(token: string): string {
  const head = token.split(".", 1)[0] ?? "";
  const decoded = Buffer.from(head, "base64").toString("utf8");
  return /^\d{5,25}$/.test(decoded) ? decoded : createHash("sha256").update(token).digest("hex").slice(0, 12);
}

/**
 * The adapter the `adapters.discord` section describes, with DISCORD_BOT_TOKEN and
 * DISCORD_API_URL from `env`: the adapter table's factory.
 */
export function fromConfig(section: unknown, env: NodeJS.ProcessEnv, context: AdapterFactoryContext): DiscordAdapter {
  const { enabled: _enabled, ...config } = parseDiscordConfig(section);
  const secrets = readDiscordEnv(env);
  return createDiscordAdapter({ ...config, token: secrets.token, apiUrl: secrets.apiUrl, logger: context.logger });
}
