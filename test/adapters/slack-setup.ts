import { createSlackAdapter, type SlackAdapter, type SlackAdapterOptions } from "../../adapters/slack/index.ts";
import type { Bot } from "../../src/app.ts";
import type { ConfigInput } from "../../src/config/schema.ts";
import { silentLogger } from "../../src/logger.ts";
import type { Store } from "../../src/store/port.ts";
import type { Workflow } from "../../src/tasks/workflow.ts";
import { startBotOn, waitForRecorded } from "../helpers.ts";
import { startFakeSlack, type FakeSlack } from "../fakes/slack/server.ts";

/** No pacing between calls: tests check behaviour, not Slack's limits (the bench does). */
export const FAST_PACING = { updatesPerMinute: 60_000, postIntervalMs: 0 } as const;

export const CHANNEL = "C0GENERAL";
export const ALICE = "U0ALICE";
export const BOB = "U0BOB";
/** Alice's direct messages with the bot. */
export const ALICE_DM = "D0ALICE";

type FakeMessageLike = { text: string; blocks?: unknown[] };

/** What a person reads in a message: its blocks' texts (sections, context), or its text. */
export function shown(message: FakeMessageLike | undefined): string {
  if (!message) return "";
  const blocks = (message.blocks ?? []) as Array<{ type: string; text?: { text?: string }; elements?: Array<{ text?: unknown }> }>;
  if (blocks.length === 0) return message.text;
  const lines: string[] = [];
  for (const block of blocks) {
    if (block.type === "section" && block.text?.text) lines.push(block.text.text);
    if (block.type === "context") for (const e of block.elements ?? []) if (typeof e.text === "string") lines.push(e.text);
  }
  return lines.join("\n");
}

/** The labels of a message's buttons, in order. */
export function buttonsOf(message: FakeMessageLike | undefined): string[] {
  const blocks = (message?.blocks ?? []) as Array<{ type: string; elements?: Array<{ type: string; text?: { text?: string } }> }>;
  return blocks.filter((b) => b.type === "actions").flatMap((b) => (b.elements ?? []).filter((e) => e.type === "button").map((e) => e.text?.text ?? ""));
}

/** The adapter with test-friendly settings, pointed at the fake (Socket Mode). */
export function slackAdapterFor(fake: FakeSlack, options: Partial<SlackAdapterOptions> = {}): SlackAdapter {
  return createSlackAdapter({
    botToken: fake.botToken,
    appToken: fake.appToken,
    apiUrl: fake.apiUrl,
    pacing: FAST_PACING,
    editIntervalMs: 50,
    retries: 3,
    logger: silentLogger(),
    ...options,
  });
}

export interface SlackBotHarness {
  fake: FakeSlack;
  adapter: SlackAdapter;
  bot: Bot;
  store: Store;
  /** The first bot message in the conversation (or thread) matching `match`, waiting for it. */
  botMessage(match: (text: string, buttons: string[]) => boolean, where: { channel: string; threadTs?: string }, timeoutMs?: number): Promise<{ ts: string; text: string }>;
  /** Waits until the engine stored the message's ts (its outbox): a person can't press within milliseconds, a test can. */
  recorded(ts: string): Promise<void>;
  stop(): Promise<void>;
}

/** A whole chatflow bot (engine, memory store, demo workflow) on the Slack adapter, against a fresh fake Slack. */
export async function startSlackBot(options: { config?: ConfigInput; workflows?: Workflow<any>[]; adapter?: Partial<SlackAdapterOptions>; store?: Store; fake?: FakeSlack } = {}): Promise<SlackBotHarness> {
  const fake = options.fake ?? (await startFakeSlack());
  const adapter = slackAdapterFor(fake, options.adapter);
  const { bot, store } = await startBotOn(adapter, options);
  await fake.waitForConnection();
  return {
    fake,
    adapter,
    bot,
    store,
    async botMessage(match, where, timeoutMs = 5000) {
      const found = await fake.waitUntil(
        () => fake.botMessages(where.channel, where.threadTs ? { threadTs: where.threadTs } : {}).find((m) => match(shown(m), buttonsOf(m))),
        timeoutMs,
        "a bot message",
      );
      return { ts: found.ts, text: shown(found) };
    },
    recorded: (ts) => waitForRecorded(store, ts),
    async stop() {
      await bot.stop();
      await fake.close();
    },
  };
}
