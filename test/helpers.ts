import { createBot, type Bot } from "../src/app.ts";
import type { ConfigInput } from "../src/config/schema.ts";
import type { ErrorHandler } from "../src/error-hook.ts";
import { silentLogger } from "../src/logger.ts";
import type { Adapter } from "../src/port/adapter.ts";
import type { Address, InboundEvent, OutboundMessage } from "../src/model.ts";
import { createMemoryStore } from "../src/store/memory.ts";
import type { Store } from "../src/store/port.ts";
import type { Task } from "../src/store/records.ts";
import type { Workflow } from "../src/tasks/workflow.ts";
import { createRecordingAdapter, type RecordingAdapter } from "../src/testing/recording-adapter.ts";

export interface TestBot {
  bot: Bot;
  adapter: RecordingAdapter;
  store: Store;
  /** Sends a plain message as `user` (default `alice`) in `channel` (default `c1`). */
  say(text: string, from?: Partial<Address>): Promise<void>;
  command(name: string, args?: string, from?: Partial<Address>): Promise<void>;
  press(actionId: string, from?: Partial<Address>, extra?: { text?: string; feedback?: string }): Promise<void>;
  /** Waits until a message of this kind whose text matches is sent (counting only those after `after` sends). */
  expectSent(kind: OutboundMessage["kind"], text?: RegExp | string, after?: number): Promise<OutboundMessage>;
  waitForTask(predicate: (task: Task) => boolean, timeoutMs?: number): Promise<Task>;
  replies(): string[];
  /** Private notices: the text and who alone saw it. */
  notices(): Array<{ text: string; user: string; alert: boolean }>;
}

let eventCounter = 0;

export async function startTestBot(options: { workflows?: Workflow<any>[]; config?: ConfigInput; store?: Store; route?: string; privateNotices?: boolean; env?: NodeJS.ProcessEnv; onError?: ErrorHandler } = {}): Promise<TestBot> {
  const adapter = createRecordingAdapter({ privateNotices: options.privateNotices ?? true });
  const store = options.store ?? createMemoryStore();
  const route = options.route ?? options.workflows?.[0]?.name ?? "demo";
  const bot = await createBot({
    config: {
      tasks: { retryBaseMs: 1, ...options.config?.tasks },
      routes: { default: { message: route, commands: Object.fromEntries((options.workflows ?? [{ name: "demo" }]).map((w) => [w.name, w.name])) } },
      workflows: { demo: { stepDelayMs: 1 } },
      ...options.config,
    },
    store,
    adapters: [adapter],
    workflows: options.workflows ?? [],
    logger: silentLogger(),
    env: options.env ?? {},
    ...(options.onError ? { onError: options.onError } : {}),
  });
  await bot.start();
  const address = (from?: Partial<Address>): Address => ({ platform: "test", channel: "c1", user: "alice", ...from });
  const deliver = (event: Record<string, unknown>) => adapter.deliver({ id: `e${++eventCounter}`, ...event } as unknown as InboundEvent);
  return {
    bot,
    adapter,
    store,
    say: (text, from) => deliver({ kind: "message", address: address(from), text }),
    command: (name, args = "", from) => deliver({ kind: "command", address: address(from), name, args }),
    press: (actionId, from, extra) => deliver({ kind: "action", address: address(from), actionId, ...extra }),
    async expectSent(kind, text, after = 0) {
      const matches = (m: OutboundMessage) => m.kind === kind && (text === undefined || (typeof text === "string" ? m.text.includes(text) : text.test(m.text)));
      const found = await adapter.waitFor((m, record) => matches(m) && adapter.sent.indexOf(record) >= after);
      return found.message;
    },
    async waitForTask(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { items } = await store.listTasks({}, { limit: 1000 });
        const found = items.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`No task matched within ${timeoutMs} ms: ${JSON.stringify(items.map((t) => [t.workflow, t.status]))}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    replies: () => adapter.sent.filter((s) => s.message.kind === "reply").map((s) => s.message.text),
    notices: () => adapter.notices.map((n) => ({ text: n.text, user: n.event.address.user, alert: n.alert })),
  };
}

/** Registers an afterEach that stops every bot started through the returned function. */
/**
 * A whole chatflow bot on one real adapter, started: the engine, a memory store (unless one
 * is given), the demo workflow with short steps and fast retries. Secrets are read from
 * `options.env` only, never from the developer's environment.
 */
export async function startBotOn(adapter: Adapter, options: { config?: ConfigInput; workflows?: Workflow<any>[]; store?: Store; env?: NodeJS.ProcessEnv } = {}): Promise<{ bot: Bot; store: Store }> {
  const store = options.store ?? createMemoryStore();
  const bot = await createBot({
    config: { tasks: { retryBaseMs: 1 }, workflows: { demo: { stepDelayMs: 5 } }, ...options.config },
    store,
    adapters: [adapter],
    workflows: options.workflows ?? [],
    logger: silentLogger(),
    env: options.env ?? {},
  });
  await bot.start();
  return { bot, store };
}

export function useTestBots(afterEachHook: (fn: () => Promise<void>) => void): typeof startTestBot {
  const bots: TestBot[] = [];
  afterEachHook(async () => {
    await Promise.all(bots.splice(0).map((t) => t.bot.stop()));
  });
  return async (...args) => {
    const t = await startTestBot(...args);
    bots.push(t);
    return t;
  };
}

/**
 * Waits until the engine stored a posted message's id in some task's outbox: a person can't
 * press a button within milliseconds of it appearing, a test can, and the engine only marks a
 * question answered once it knows the question's message.
 */
export async function waitForRecorded(store: Store, messageId: string, timeoutMs = 5000): Promise<void> {
  const known = async () => {
    for (const task of (await store.listTasks({}, { limit: 100 })).items) {
      for (const record of (await store.getOutbox(task.id)).values()) if (record.messageId === messageId) return true;
    }
    return false;
  };
  const deadline = Date.now() + timeoutMs;
  while (!(await known())) {
    if (Date.now() > deadline) throw new Error(`The engine never recorded message ${messageId}.`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Waits until `condition` (sync or async) holds, checking every 10 ms; fails naming `what` after `timeoutMs`. */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
