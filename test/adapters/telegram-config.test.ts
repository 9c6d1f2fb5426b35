import { afterEach, describe, expect, it } from "vitest";
import { fromConfig } from "../../adapters/telegram/index.ts";
import { enabledAdapterNames } from "../../src/adapter-table.ts";
import { parseConfig } from "../../src/config/load.ts";
import { ConfigError } from "../../src/errors.ts";
import { silentLogger } from "../../src/logger.ts";
import { startFakeTelegram } from "../fakes/telegram/server.ts";
import { cleanupList } from "./telegram-setup.ts";

const cleanup = cleanupList();
afterEach(() => cleanup.run());

const TOKEN = "123456789:TEST-fake_token_for_tests";
const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ TELEGRAM_BOT_TOKEN: TOKEN, ...extra });
const logger = silentLogger();

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("telegram adapter: configuration", () => {
  it("is off unless enabled; defaults give polling, one edit a second, 4,096-character messages", () => {
    expect(enabledAdapterNames(parseConfig({}))).toEqual([]);
    expect(enabledAdapterNames(parseConfig({ adapters: { telegram: { enabled: false } } }))).toEqual([]);
    expect(enabledAdapterNames(parseConfig({ adapters: { telegram: { enabled: true } } }))).toEqual(["telegram"]);
    const adapter = fromConfig({ enabled: true }, env(), { logger });
    expect(adapter.platform).toBe("telegram");
    expect(adapter.capabilities).toEqual({ editIntervalMs: 1000, maxTextLength: 4096, persistentMessages: true });
  });

  it("takes the section as the main config passes it through", () => {
    const config = parseConfig({ adapters: { telegram: { enabled: true, editIntervalMs: 2000 } } });
    expect(fromConfig(config.adapters.telegram, env(), { logger }).capabilities.editIntervalMs).toBe(2000);
  });

  it("a missing token names TELEGRAM_BOT_TOKEN and BotFather; a malformed one is not echoed", () => {
    const missing = configError(() => fromConfig({ enabled: true }, {}, { logger }));
    expect(missing.message).toMatch(/^TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather/);
    const malformed = configError(() => fromConfig({ enabled: true }, { TELEGRAM_BOT_TOKEN: "oops-not-a-token" }, { logger }));
    expect(malformed.message).toContain("TELEGRAM_BOT_TOKEN");
    expect(malformed.message).not.toContain("oops-not-a-token");
  });

  it("refuses a token in the file, naming the field and the variable", () => {
    const error = configError(() => fromConfig({ enabled: true, token: TOKEN }, env(), { logger }));
    expect(error.message).toContain("adapters.telegram.token");
    expect(error.message).toContain("TELEGRAM_BOT_TOKEN");
    expect(error.message).not.toContain(TOKEN);
  });

  it("names each bad field as adapters.telegram.<field>", () => {
    const error = configError(() => fromConfig({ enabled: true, mode: "push", editIntervalMs: -1, webhook: { port: 70000 }, extra: 1 }, env(), { logger }));
    for (const field of ["adapters.telegram.mode", "adapters.telegram.editIntervalMs", "adapters.telegram.webhook.port", "adapters.telegram: Unrecognized key"]) {
      expect(error.message).toContain(field.split(":")[0]);
    }
  });

  it("webhook mode needs webhook.url and TELEGRAM_WEBHOOK_SECRET", () => {
    expect(configError(() => fromConfig({ enabled: true, mode: "webhook" }, env(), { logger })).message).toContain("adapters.telegram.webhook.url");
    const section = { enabled: true, mode: "webhook", webhook: { url: "https://bot.example.com/telegram" } };
    expect(configError(() => fromConfig(section, env(), { logger })).message).toMatch(/^TELEGRAM_WEBHOOK_SECRET is not set/);
    expect(configError(() => fromConfig(section, env({ TELEGRAM_WEBHOOK_SECRET: "has spaces!" }), { logger })).message).toContain("TELEGRAM_WEBHOOK_SECRET");
    expect(fromConfig(section, env({ TELEGRAM_WEBHOOK_SECRET: "good_secret-1" }), { logger })).toBeDefined();
  });

  it("TELEGRAM_API_ROOT points the bot at another Bot API server (a trailing slash is fine)", async () => {
    const fake = await startFakeTelegram();
    cleanup.add(() => fake.close());
    const adapter = fromConfig({ enabled: true }, env({ TELEGRAM_API_ROOT: `${fake.apiRoot}/` }), { logger });
    await adapter.start(async () => undefined);
    cleanup.add(() => adapter.stop());
    expect(adapter.me?.username).toBe("chatflow_test_bot");
    expect(configError(() => fromConfig({ enabled: true }, env({ TELEGRAM_API_ROOT: "ftp://x" }), { logger })).message).toContain("TELEGRAM_API_ROOT");
  });
});
