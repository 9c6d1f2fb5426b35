import { describe, expect, it } from "vitest";
import { ADAPTER_NAMES, adaptersFromConfig, enableOnly, enabledAdapterNames, parseAdapterList, withDefaultAdapters } from "../../src/adapter-table.ts";
import { createBot } from "../../src/app.ts";
import { loadConfig, parseConfig } from "../../src/config/load.ts";
import { ConfigError } from "../../src/errors.ts";
import { silentLogger } from "../../src/logger.ts";

const logger = silentLogger();

describe("the adapter table", () => {
  it("knows every shipped adapter; the chatflow command runs the console and the web server by default, createBot only what is enabled", async () => {
    expect(ADAPTER_NAMES).toEqual(["console", "telegram", "slack", "discord", "web"]);
    // createBot() from code starts no console and binds no port unless told to.
    expect(enabledAdapterNames(parseConfig({}))).toEqual([]);
    const bot = await createBot({ logger });
    expect(bot.adapters).toEqual([]);
    // The chatflow command's defaults, for a file that says nothing about adapters.
    expect(enabledAdapterNames(withDefaultAdapters(parseConfig({})))).toEqual(["console", "web"]);
    expect(enabledAdapterNames(withDefaultAdapters(parseConfig({ adapters: { web: { enabled: false } } })))).toEqual(["console"]);
    // The documented default file: the console chat and the web page and API on loopback.
    expect(enabledAdapterNames(await loadConfig(undefined, {}))).toEqual(["console", "web"]);
    expect(enabledAdapterNames(parseConfig({ adapters: { console: { enabled: false }, web: { enabled: false }, telegram: { enabled: true } } }))).toEqual(["telegram"]);
  });

  it("refuses a section of an unknown adapter, naming it and the known ones", async () => {
    const config = parseConfig({ adapters: { slak: { enabled: true } } });
    await expect(createBot({ config, logger })).rejects.toThrow(new ConfigError('Unknown adapter "slak" (adapters.slak in the configuration). Known adapters: console, telegram, slack, discord, web.'));
  });

  it("each adapter validates its own section, naming the field", async () => {
    const config = parseConfig({ adapters: { console: { enabled: true, chanel: "x" } } });
    const failure = adaptersFromConfig(config, {}, { logger });
    await expect(failure).rejects.toBeInstanceOf(ConfigError);
    await expect(failure).rejects.toThrow(/adapters\.console: Unrecognized key: "chanel"/);
    await expect(adaptersFromConfig(parseConfig({ adapters: { telegram: { enabled: true, mode: "push" } } }), { TELEGRAM_BOT_TOKEN: "1:a" }, { logger })).rejects.toThrow(/adapters\.telegram\.mode/);
  });

  it("refuses two of its servers on one port, naming both settings (Slack's HTTP mode defaults beside the web chat)", async () => {
    const clash = parseConfig({ adapters: { web: { enabled: true }, slack: { enabled: true, mode: "http", http: { port: 3000 } } } });
    await expect(adaptersFromConfig(clash, {}, { logger })).rejects.toThrow(
      "adapters.web.port and adapters.slack.http.port are both 3000: two of chatflow's servers can't share a port. Give one of them another port (0 picks a free one).",
    );
    const viaEnv = parseConfig({ adapters: { web: { enabled: true }, slack: { enabled: true, mode: "http" } } });
    await expect(adaptersFromConfig(viaEnv, { CHATFLOW_WEB_PORT: "3001" }, { logger })).rejects.toThrow(/^CHATFLOW_WEB_PORT and adapters\.slack\.http\.port are both 3001/);
  });

  it("--adapter lists: comma lists and repeats, de-duplicated; unknown names refused with the list", () => {
    expect(parseAdapterList(["telegram,console", " Telegram "], "from --adapter")).toEqual(["telegram", "console"]);
    expect(() => parseAdapterList(["matrix"], "from --adapter")).toThrow('Unknown adapter "matrix" (from --adapter). Known adapters: console, telegram, slack, discord, web.');
    expect(() => parseAdapterList([" , "], "from CHATFLOW_ADAPTERS")).toThrow(/No adapter named \(from CHATFLOW_ADAPTERS\)/);
  });

  it("enableOnly runs exactly the named adapters and keeps each one's settings", () => {
    const config = parseConfig({ adapters: { console: { enabled: true, channel: "desk" }, telegram: { enabled: false, editIntervalMs: 2000 } } });
    const only = enableOnly(config, ["telegram"]);
    expect(enabledAdapterNames(only)).toEqual(["telegram"]);
    expect(only.adapters.telegram).toEqual({ enabled: true, editIntervalMs: 2000 });
    expect(only.adapters.console).toEqual({ enabled: false, channel: "desk" });
    expect(enabledAdapterNames(enableOnly(parseConfig({}), ["console", "telegram"]))).toEqual(["console", "telegram"]);
  });
});
