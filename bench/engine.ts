/**
 * Engine benchmarks: messages per second end to end, tiny tasks per second, memory per
 * parked task, and the time to resume expired leases at start-up. Run: `npm run bench`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createBot, type Bot } from "../src/app.ts";
import { silentLogger } from "../src/logger.ts";
import { createLowdbStore } from "../src/store/lowdb/index.ts";
import { createMemoryStore } from "../src/store/memory.ts";
import type { Store } from "../src/store/port.ts";
import type { Task } from "../src/store/records.ts";
import { defineWorkflow } from "../src/tasks/workflow.ts";
import { createRecordingAdapter, type RecordingAdapter } from "../src/testing/recording-adapter.ts";
import { machine } from "./machine.ts";

const tiny = defineWorkflow({ name: "tiny", run: async (ctx) => ({ text: await ctx.step("one", () => "ok") }) });
const parker = defineWorkflow({ name: "parker", run: async (ctx) => ({ text: await ctx.ask("Which one?", { choices: ["a", "b"] }) }) });

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), "chatflow-bench-"));
}

async function bot(store: Store, route: string | null, options: { concurrency?: number } = {}): Promise<{ bot: Bot; adapter: RecordingAdapter }> {
  const adapter = createRecordingAdapter({ capabilities: { editIntervalMs: 0 } });
  const b = await createBot({
    config: { routes: { default: { message: route } }, tasks: { concurrency: options.concurrency ?? 5, startsPerUserPerMinute: 0 } },
    store,
    adapters: [adapter],
    workflows: [tiny, parker],
    logger: silentLogger(),
  });
  await b.start();
  return { bot: b, adapter };
}

/** Delivers `count` events with at most `inFlight` outstanding; resolves with the elapsed ms. */
async function pump(count: number, inFlight: number, deliver: (i: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) await deliver(next++);
    }),
  );
  return performance.now() - started;
}

/** Plain messages end to end: dedupe, session, history, routing, a reply sent, event marked seen. */
async function messagesPerSecond(store: Store, count: number): Promise<number> {
  const { bot: b, adapter } = await bot(store, null);
  const ms = await pump(count, 50, (i) => adapter.deliver({ kind: "message", id: `m${i}`, address: { platform: "test", channel: `c${i % 100}`, user: "u" }, text: `hello ${i}` }));
  if (adapter.sent.length !== count) throw new Error(`expected ${count} replies, got ${adapter.sent.length}`);
  await b.stop();
  return (count / ms) * 1000;
}

async function tinyTasksPerSecond(store: Store, count: number): Promise<number> {
  const { bot: b, adapter } = await bot(store, "tiny");
  const started = performance.now();
  await pump(count, 50, (i) => adapter.deliver({ kind: "message", id: `t${i}`, address: { platform: "test", channel: `c${i}`, user: "u" }, text: "go" }));
  await b.idle();
  const ms = performance.now() - started;
  const results = adapter.sent.filter((s) => s.message.kind === "result").length;
  if (results !== count) throw new Error(`expected ${count} results, got ${results}`);
  await b.stop();
  return (count / ms) * 1000;
}

function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

async function memoryPerParkedTask(count: number): Promise<number> {
  const dir = await tempDir();
  const { bot: b, adapter } = await bot(createLowdbStore({ dir }), "parker", { concurrency: 50 });
  const before = heapUsed();
  await pump(count, 50, (i) => adapter.deliver({ kind: "message", id: `p${i}`, address: { platform: "test", channel: `c${i}`, user: "u" }, text: "go" }));
  await b.idle();
  adapter.sent.length = 0; // what the fake platform recorded is not the engine's memory
  const after = heapUsed();
  const parked = (await b.store.listTasks({ status: "waiting" }, { limit: count })).items.length;
  if (parked !== count) throw new Error(`expected ${count} parked tasks, got ${parked}`);
  await b.stop();
  await rm(dir, { recursive: true, force: true });
  return (after - before) / count;
}

/** 10,000 tasks left `running` by a dead process: time from start-up until all are resumed. */
async function leaseResume(count: number): Promise<{ startMs: number; allStartedMs: number }> {
  const dir = await tempDir();
  const seed = createLowdbStore({ dir });
  await seed.open();
  const now = Date.now();
  const writes: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const task: Task = {
      id: `task${i}`,
      rev: 1,
      sessionId: `s${i}`,
      address: { platform: "test", channel: `c${i}`, user: "u" },
      owner: "u",
      workflow: "parker",
      input: { text: "go" },
      status: "running",
      percent: 10,
      createdAt: now - 60_000,
      updatedAt: now - 60_000,
      startedAt: now - 60_000,
      attempts: 1,
      elapsedMs: 0,
      lease: { owner: "dead", until: now - 30_000 },
    };
    writes.push(seed.createTask(task));
  }
  await Promise.all(writes);
  await seed.close();
  const started = performance.now();
  const { bot: b } = await bot(createLowdbStore({ dir }), "parker", { concurrency: 50 });
  const startMs = performance.now() - started;
  await b.idle();
  const allStartedMs = performance.now() - started;
  const left = (await b.store.listTasks({ status: "running" }, { limit: 1 })).items.length;
  if (left !== 0) throw new Error("some tasks were not resumed");
  await b.stop();
  await rm(dir, { recursive: true, force: true });
  return { startMs, allStartedMs };
}

export async function runEngineBench(): Promise<Record<string, unknown>> {
  const dir = await tempDir();
  const lowdbMessages = await messagesPerSecond(createLowdbStore({ dir: path.join(dir, "m") }), 20_000);
  const memoryMessages = await messagesPerSecond(createMemoryStore(), 20_000);
  const lowdbTasks = await tinyTasksPerSecond(createLowdbStore({ dir: path.join(dir, "t") }), 5_000);
  const memoryTasks = await tinyTasksPerSecond(createMemoryStore(), 5_000);
  await rm(dir, { recursive: true, force: true });
  const parkedBytes = await memoryPerParkedTask(10_000);
  const resume = await leaseResume(10_000);
  return {
    machine: machine(),
    messagesPerSecond: { lowdb: Math.round(lowdbMessages), memory: Math.round(memoryMessages), lowdbVsMemory: +(lowdbMessages / memoryMessages).toFixed(2), target: ">= 2000 on lowdb" },
    tinyTasksPerSecond: { lowdb: Math.round(lowdbTasks), memory: Math.round(memoryTasks), lowdbVsMemory: +(lowdbTasks / memoryTasks).toFixed(2) },
    parkedTask: { count: 10_000, bytesEach: Math.round(parkedBytes), kibEach: +(parkedBytes / 1024).toFixed(2), target: "< 10 KiB each", gcExposed: typeof (globalThis as { gc?: unknown }).gc === "function" },
    leaseResume: { tasks: 10_000, startUntilAllResumedMs: Math.round(resume.startMs), untilAllRanMs: Math.round(resume.allStartedMs), target: "< 2000 ms" },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(JSON.stringify(await runEngineBench(), null, 2));
}
