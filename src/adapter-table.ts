import type { Adapter, AdapterFactoryContext, AdapterModule } from "./port/adapter.ts";
import type { Config } from "./config/schema.ts";
import { ConfigError } from "./errors.ts";

interface AdapterRow {
  /** One line for `chatflow --help`. */
  description: string;
  /**
   * Whether the `chatflow` command runs it when the configuration does not say `enabled`
   * (the console chat and the web page: `npm start` works with no file). `createBot()` from
   * code runs only what its configuration enables or its `adapters` give.
   */
  enabledByDefault: boolean;
  /** Imported only when the adapter is enabled, so an unused SDK costs no start-up time. */
  load(): Promise<AdapterModule>;
}

/**
 * Every adapter chatflow ships: a new adapter is a row here. `createBot`, the CLI's
 * `--adapter` and the validation of the `adapters` section all read this table.
 */
export const ADAPTERS: Readonly<Record<string, AdapterRow>> = {
  console: { description: "the chat in this terminal", enabledByDefault: true, load: () => import("../adapters/console/index.ts") },
  telegram: { description: "Telegram, on grammY (TELEGRAM_BOT_TOKEN)", enabledByDefault: false, load: () => import("../adapters/telegram/index.ts") },
  slack: { description: "Slack, on Bolt (SLACK_BOT_TOKEN, SLACK_APP_TOKEN)", enabledByDefault: false, load: () => import("../adapters/slack/index.ts") },
  discord: { description: "Discord, on discord.js (DISCORD_BOT_TOKEN)", enabledByDefault: false, load: () => import("../adapters/discord/index.ts") },
  web: { description: "the web chat page and HTTP API on 127.0.0.1:3000 (CHATFLOW_API_TOKENS or CHATFLOW_JWT_SECRET to bind elsewhere)", enabledByDefault: true, load: () => import("../adapters/web/index.ts") },
};

export const ADAPTER_NAMES: readonly string[] = Object.keys(ADAPTERS);

function unknownAdapter(name: string, source: string): ConfigError {
  return new ConfigError(`Unknown adapter "${name}" (${source}). Known adapters: ${ADAPTER_NAMES.join(", ")}.`);
}

/**
 * Adapter names as given on the command line or in CHATFLOW_ADAPTERS: repeated values and
 * comma lists (`telegram,console`), trimmed and de-duplicated. Throws a ConfigError for an
 * unknown name, listing the known ones.
 */
export function parseAdapterList(values: readonly string[], source: string): string[] {
  const names = values.flatMap((value) => value.split(",")).map((name) => name.trim().toLowerCase()).filter((name) => name !== "");
  if (names.length === 0) throw new ConfigError(`No adapter named (${source}). Known adapters: ${ADAPTER_NAMES.join(", ")}.`);
  for (const name of names) if (!(name in ADAPTERS)) throw unknownAdapter(name, source);
  return [...new Set(names)];
}

/**
 * The configuration with exactly `names` enabled, on top of what the file says about each
 * adapter (its other settings stay): `--adapter telegram` runs Telegram alone.
 */
export function enableOnly(config: Config, names: readonly string[]): Config {
  const adapters: Config["adapters"] = {};
  for (const name of new Set([...ADAPTER_NAMES, ...Object.keys(config.adapters), ...names])) {
    adapters[name] = { ...config.adapters[name], enabled: names.includes(name) };
  }
  return { ...config, adapters };
}

/** The names of the adapters the configuration enables (`enabled: true`), in table order. Throws for a section of an unknown adapter. */
export function enabledAdapterNames(config: Config): string[] {
  for (const name of Object.keys(config.adapters)) if (!(name in ADAPTERS)) throw unknownAdapter(name, `adapters.${name} in the configuration`);
  return ADAPTER_NAMES.filter((name) => config.adapters[name]?.enabled === true);
}

/**
 * The configuration as the `chatflow` command runs it: an adapter whose section does not say
 * `enabled` runs when its row is on by default (the console chat and the web page).
 */
export function withDefaultAdapters(config: Config): Config {
  const adapters: Config["adapters"] = { ...config.adapters };
  for (const name of ADAPTER_NAMES) {
    const byDefault = adapters[name]?.enabled === undefined && ADAPTERS[name]!.enabledByDefault;
    adapters[name] = { ...adapters[name], enabled: adapters[name]?.enabled ?? ADAPTERS[name]!.enabledByDefault };
    // A web chat that runs only by default must not stop the console when its port is taken.
    if (byDefault && name === "web" && adapters[name]!.required === undefined) adapters[name] = { ...adapters[name], required: false };
  }
  return { ...config, adapters };
}

/** A port of an enabled adapter's own server, by the setting that gives it (defaults as the adapters' schemas have them). */
function listeningPorts(config: Config, env: NodeJS.ProcessEnv): Array<{ setting: string; port: number }> {
  const names = enabledAdapterNames(config);
  const ports: Array<{ setting: string; port: number }> = [];
  const section = (name: string) => (config.adapters[name] ?? {}) as Record<string, unknown>;
  if (names.includes("web")) {
    const fromEnv = env.CHATFLOW_WEB_PORT?.trim();
    ports.push(fromEnv ? { setting: "CHATFLOW_WEB_PORT", port: Number(fromEnv) } : { setting: "adapters.web.port", port: Number(section("web").port ?? 3000) });
  }
  const slack = section("slack");
  if (names.includes("slack") && slack.mode === "http") ports.push({ setting: "adapters.slack.http.port", port: Number((slack.http as { port?: unknown } | undefined)?.port ?? 3001) });
  const telegram = section("telegram");
  if (names.includes("telegram") && telegram.mode === "webhook") {
    ports.push({ setting: "adapters.telegram.webhook.port", port: Number((telegram.webhook as { port?: unknown } | undefined)?.port ?? 8443) });
  }
  return ports;
}

/** Refuses two adapters' servers on one port (0 picks a free one each), naming both settings: otherwise the second fails with "the port is in use", the other process being chatflow itself. */
function checkPorts(config: Config, env: NodeJS.ProcessEnv): void {
  const seen = new Map<number, string>();
  for (const { setting, port } of listeningPorts(config, env)) {
    if (port === 0 || !Number.isFinite(port)) continue;
    const other = seen.get(port);
    if (other) throw new ConfigError(`${other} and ${setting} are both ${port}: two of chatflow's servers can't share a port. Give one of them another port (0 picks a free one).`);
    seen.set(port, setting);
  }
}

/** Imports and creates the enabled adapters, in table order. */
export async function adaptersFromConfig(config: Config, env: NodeJS.ProcessEnv, context: AdapterFactoryContext): Promise<Adapter[]> {
  checkPorts(config, env);
  const adapters: Adapter[] = [];
  for (const name of enabledAdapterNames(config)) {
    const module = await ADAPTERS[name]!.load();
    adapters.push(await module.fromConfig(config.adapters[name] ?? {}, env, context));
  }
  return adapters;
}
