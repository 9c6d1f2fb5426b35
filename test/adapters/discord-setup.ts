import { createDiscordAdapter, type DiscordAdapter, type DiscordAdapterOptions } from "../../adapters/discord/index.ts";
import type { Bot } from "../../src/app.ts";
import type { ConfigInput } from "../../src/config/schema.ts";
import { silentLogger } from "../../src/logger.ts";
import type { Store } from "../../src/store/port.ts";
import type { Workflow } from "../../src/tasks/workflow.ts";
import { startFakeDiscord, type FakeDiscord } from "../fakes/discord/server.ts";
import { startBotOn, waitForRecorded } from "../helpers.ts";

type FakeMessageLike = { content: string; embeds?: unknown[]; components?: unknown[] };

/** What a person reads in a message: its content and its embeds' descriptions. */
export function shown(message: FakeMessageLike | undefined): string {
  if (!message) return "";
  const embeds = (message.embeds ?? []) as Array<{ description?: string }>;
  return [message.content, ...embeds.map((e) => e.description ?? "")].filter(Boolean).join("\n");
}

/** The labels of a message's buttons, in order. */
export function buttonsOf(message: FakeMessageLike | undefined): string[] {
  const rows = (message?.components ?? []) as Array<{ components?: Array<{ type: number; label?: string }> }>;
  return rows.flatMap((row) => (row.components ?? []).filter((c) => c.type === 2).map((c) => c.label ?? ""));
}

/** The adapter pointed at the fake, commands registered in its guild. */
export function discordAdapterFor(fake: FakeDiscord, options: Partial<DiscordAdapterOptions> = {}): DiscordAdapter {
  return createDiscordAdapter({ token: fake.token, apiUrl: fake.apiUrl, guildId: fake.guild.id, editIntervalMs: 50, logger: silentLogger(), ...options });
}

export interface DiscordBotHarness {
  fake: FakeDiscord;
  adapter: DiscordAdapter;
  bot: Bot;
  store: Store;
  recorded(messageId: string): Promise<void>;
  stop(): Promise<void>;
}

/** A whole chatflow bot (engine, memory store, demo workflow) on the Discord adapter, against a fresh fake Discord. */
export async function startDiscordBot(options: { config?: ConfigInput; workflows?: Workflow<any>[]; adapter?: Partial<DiscordAdapterOptions>; fake?: FakeDiscord } = {}): Promise<DiscordBotHarness> {
  const fake = options.fake ?? (await startFakeDiscord());
  const adapter = discordAdapterFor(fake, options.adapter);
  const { bot, store } = await startBotOn(adapter, options);
  return {
    fake,
    adapter,
    bot,
    store,
    recorded: (messageId) => waitForRecorded(store, messageId),
    async stop() {
      // The client first: a client whose gateway closes tries to resume.
      await bot.stop();
      await fake.close();
    },
  };
}
