/**
 * Store benchmark: the cost of persisting one message and one task update with N messages
 * already stored, for the chatflow lowdb store and for a naive lowdb baseline (everything in
 * one JSONFile, `db.write()` after every change).
 *
 *   npx tsx bench/store.ts
 *
 * Prints a JSON object, then a table. Figures per size: p50 / p99 latency (ms) of awaited
 * operations, and the longest event-loop block seen while they ran (ms, from
 * perf_hooks.monitorEventLoopDelay, compaction included when it happens).
 * Targets at 100k: p99 < 5 ms, no event-loop block > 20 ms, cost within 2x of the cost at 1k.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { Low } from "lowdb";
import { JSONFile } from "lowdb/node";
import type { Message, Session } from "../src/model.ts";
import { createLowdbStore } from "../src/store/lowdb/index.ts";
import type { Store } from "../src/store/port.ts";
import type { JournalEntry, Task } from "../src/store/records.ts";

const SIZES = [1_000, 10_000, 100_000];
/** Measured operations per kind for the chatflow store. */
const ITERATIONS = 2_000;
/** The naive baseline rewrites the whole file per change: fewer iterations at larger sizes. */
const NAIVE_ITERATIONS: Record<number, number> = { 1_000: 500, 10_000: 200, 100_000: 50 };
/** Lower than the 8 MiB default so that compactions happen during the measurement. */
const BENCH_COMPACT_AFTER = 1 << 20;

const TEXT = "Here is the summary of the sources you asked for, with the three points that matter most and a link to each. ".repeat(2);

interface OpStats {
  iterations: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Longest event-loop block during the run (ms). */
  maxLoopBlockMs: number;
}

interface SizeResult {
  messages: number;
  sessions: number;
  tasks: number;
  chatflow: {
    appendMessage: OpStats;
    updateTask: OpStats;
    listMessages50: OpStats;
    /** Compactions during the measurement, and how long each took (wall time, not blocking). */
    compactions: number;
    compactionMs: number[];
    preloadMs: number;
    reopenMs: number;
  };
  naive: { appendMessage: OpStats; updateTask: OpStats; fileBytes: number };
}

const round = (n: number) => Math.round(n * 1000) / 1000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `op(i)` `n` times, awaiting each, and records latencies and the event-loop blocking. */
async function measure(n: number, op: (i: number) => Promise<unknown>): Promise<OpStats> {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const times: number[] = [];
  loop.enable();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op(i);
    times.push(performance.now() - t);
    // Yield between operations, as separate requests would: an operation served from memory
    // resolves in microtasks, and 2,000 of them back to back would read as one long block of
    // this loop rather than of the store.
    await new Promise((r) => setImmediate(r));
  }
  // Let a block that started during the last operations (e.g. a compaction) show up.
  await new Promise((r) => setTimeout(r, 20));
  loop.disable();
  times.sort((a, b) => a - b);
  return { iterations: n, p50Ms: round(percentile(times, 50)), p99Ms: round(percentile(times, 99)), maxMs: round(times[times.length - 1]!), maxLoopBlockMs: round(loop.max / 1e6) };
}

function makeSession(i: number, now: number): Session {
  const id = `sess${String(i).padStart(6, "0")}`;
  return { id, key: `slack:C${i}`, platform: "slack", channel: `C${i}`, owner: `U${i % 50}`, state: "idle", topic: "weekly report", createdAt: now, updatedAt: now, lastActiveAt: now + i };
}

function makeMessage(sessionId: string, i: number, now: number): Message {
  return { id: `m${i}`, sessionId, role: i % 2 ? "assistant" : "user", text: TEXT, source: i % 2 ? "workflow" : "user", user: "U1", at: now + i };
}

function makeTask(i: number, sessionId: string, now: number): Task {
  return {
    id: `task${String(i).padStart(7, "0")}`,
    rev: 1,
    sessionId,
    address: { platform: "slack", channel: "C1", thread: "1700000000.000100", user: "U1" },
    owner: "U1",
    workflow: "report",
    input: { topic: "quarterly numbers", sources: ["https://example.com/a", "https://example.com/b"] },
    status: i % 3 === 0 ? "running" : "completed",
    percent: 40,
    step: "Collecting sources",
    createdAt: now + i,
    updatedAt: now + i,
    attempts: 1,
    elapsedMs: 1234,
    result: { text: TEXT, links: [{ url: "https://example.com/a", title: "A" }] },
  };
}

function shape(n: number) {
  return { sessions: Math.max(10, n / 100), tasks: n / 10 };
}

async function benchChatflow(n: number): Promise<SizeResult["chatflow"]> {
  const dir = await mkdtemp(join(tmpdir(), "chatflow-bench-store-"));
  const now = Date.now();
  const { sessions, tasks } = shape(n);
  let compactions: number[] = [];
  const onInfo = (o: object) => void compactions.push((o as { ms: number }).ms);
  const options = { dir, compactAfterBytes: BENCH_COMPACT_AFTER, logger: { warn: (o: object, m: string) => console.warn(m, o), info: onInfo } };
  let store: Store = createLowdbStore(options);
  try {
    await store.open();
    const t0 = performance.now();
    const sessionIds = Array.from({ length: sessions }, (_, i) => makeSession(i, now).id);
    await Promise.all(sessionIds.map((_, i) => store.createSession(makeSession(i, now))));
    const taskIds: string[] = [];
    const writes: Promise<void>[] = [];
    for (let i = 0; i < tasks; i++) {
      const t = makeTask(i, sessionIds[i % sessions]!, now);
      taskIds.push(t.id);
      writes.push(store.createTask(t));
      const entry: JournalEntry = { value: { sources: ["https://example.com/a"], text: "draft" }, at: now };
      writes.push(store.appendJournal(t.id, "collect#0", entry), store.appendJournal(t.id, "draft#0", entry));
    }
    await Promise.all(writes);
    // Through the store API, in batches (not awaited one by one).
    for (let start = 0; start < n; start += 10_000) {
      const batch: Promise<void>[] = [];
      for (let i = start; i < Math.min(n, start + 10_000); i++) batch.push(store.appendMessage(makeMessage(sessionIds[i % sessions]!, i, now)));
      await Promise.all(batch);
    }
    const preloadMs = performance.now() - t0;
    // Measure a restarted bot: snapshot written on close, read back on open.
    await store.close();
    const t1 = performance.now();
    store = createLowdbStore(options);
    await store.open();
    const reopenMs = performance.now() - t1;
    compactions = [];

    await measure(200, (i) => store.updateTask(taskIds[i % tasks]!, { percent: i % 100 })); // warm-up
    const appendMessage = await measure(ITERATIONS, (i) => store.appendMessage(makeMessage(sessionIds[(i * 7) % sessions]!, n + i, now)));
    const updateTask = await measure(ITERATIONS, (i) =>
      store.updateTask(taskIds[(i * 13) % tasks]!, { percent: i % 100, step: `Step ${i}`, updatedAt: now + i }),
    );
    const listMessages50 = await measure(500, (i) => store.listMessages(sessionIds[(i * 11) % sessions]!, 50));
    return { appendMessage, updateTask, listMessages50, compactions: compactions.length, compactionMs: [...compactions], preloadMs: round(preloadMs), reopenMs: round(reopenMs) };
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

interface NaiveData {
  sessions: Session[];
  messages: Message[];
  tasks: Task[];
  journal: Record<string, Record<string, JournalEntry>>;
}

async function benchNaive(n: number): Promise<SizeResult["naive"]> {
  const dir = await mkdtemp(join(tmpdir(), "chatflow-bench-naive-"));
  const now = Date.now();
  const { sessions, tasks } = shape(n);
  try {
    const file = join(dir, "db.json");
    const db = new Low<NaiveData>(new JSONFile(file), { sessions: [], messages: [], tasks: [], journal: {} });
    const sessionList = Array.from({ length: sessions }, (_, i) => makeSession(i, now));
    db.data.sessions = sessionList;
    for (let i = 0; i < tasks; i++) {
      const t = makeTask(i, sessionList[i % sessions]!.id, now);
      db.data.tasks.push(t);
      const entry = { value: { sources: ["https://example.com/a"], text: "draft" }, at: now };
      db.data.journal[t.id] = { "collect#0": entry, "draft#0": entry };
    }
    for (let i = 0; i < n; i++) db.data.messages.push(makeMessage(sessionList[i % sessions]!.id, i, now));
    await db.write();
    const iterations = NAIVE_ITERATIONS[n] ?? 50;
    const appendMessage = await measure(iterations, async (i) => {
      db.data.messages.push(makeMessage(sessionList[(i * 7) % sessions]!.id, n + i, now));
      await db.write();
    });
    const updateTask = await measure(iterations, async (i) => {
      const t = db.data.tasks[(i * 13) % tasks]!;
      Object.assign(t, { percent: i % 100, step: `Step ${i}`, updatedAt: now + i, rev: t.rev + 1 });
      await db.write();
    });
    const fileBytes = JSON.stringify(db.data).length;
    return { appendMessage, updateTask, fileBytes };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runStoreBench(): Promise<object> {
  const started = performance.now();
  const results: SizeResult[] = [];
  for (const n of SIZES) {
    const { sessions, tasks } = shape(n);
    const chatflow = await benchChatflow(n);
    const naive = await benchNaive(n);
    results.push({ messages: n, sessions, tasks, chatflow, naive });
  }
  const first = results[0]!;
  const last = results[results.length - 1]!;
  const ratio = (a: number, b: number) => round(a / b);
  const ratios = {
    naiveOverChatflowP50: Object.fromEntries(
      results.map((r) => [r.messages, { appendMessage: ratio(r.naive.appendMessage.p50Ms, r.chatflow.appendMessage.p50Ms), updateTask: ratio(r.naive.updateTask.p50Ms, r.chatflow.updateTask.p50Ms) }]),
    ),
    chatflowLargestOverSmallestP50: {
      appendMessage: ratio(last.chatflow.appendMessage.p50Ms, first.chatflow.appendMessage.p50Ms),
      updateTask: ratio(last.chatflow.updateTask.p50Ms, first.chatflow.updateTask.p50Ms),
    },
  };
  const ops = ["appendMessage", "updateTask"] as const;
  const targets = {
    p99Under5msAtLargest: ops.every((op) => last.chatflow[op].p99Ms < 5),
    noLoopBlockOver20msAtLargest: ops.every((op) => last.chatflow[op].maxLoopBlockMs <= 20) && last.chatflow.listMessages50.maxLoopBlockMs <= 20,
    largestWithin2xOfSmallest: ops.every((op) => ratios.chatflowLargestOverSmallestP50[op] <= 2),
  };
  const cpu = cpus();
  return {
    machine: { cpu: cpu[0]?.model ?? "unknown", cores: cpu.length, node: process.version, platform: `${process.platform} ${process.arch}` },
    settings: { iterations: ITERATIONS, naiveIterations: NAIVE_ITERATIONS, compactAfterBytes: BENCH_COMPACT_AFTER, sessionsPer100Messages: 1, tasksPer10Messages: 1 },
    results,
    ratios,
    targets,
    totalSeconds: round((performance.now() - started) / 1000),
  };
}

function printTable(report: Awaited<ReturnType<typeof runStoreBench>>): void {
  const r = report as { results: SizeResult[]; ratios: object; targets: Record<string, boolean>; machine: Record<string, unknown> };
  const rows: string[][] = [["messages", "store", "operation", "iters", "p50 ms", "p99 ms", "max ms", "loop block ms"]];
  for (const s of r.results) {
    const add = (store: string, op: string, st: OpStats) => rows.push([String(s.messages), store, op, String(st.iterations), String(st.p50Ms), String(st.p99Ms), String(st.maxMs), String(st.maxLoopBlockMs)]);
    add("chatflow", "appendMessage", s.chatflow.appendMessage);
    add("chatflow", "updateTask", s.chatflow.updateTask);
    add("chatflow", "listMessages(50)", s.chatflow.listMessages50);
    add("naive", "appendMessage", s.naive.appendMessage);
    add("naive", "updateTask", s.naive.updateTask);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]) => row.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  console.log(`\n${r.machine.cpu} (${r.machine.cores} cores), node ${r.machine.node}`);
  console.log(line(rows[0]!));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of rows.slice(1)) console.log(line(row));
  for (const s of r.results) console.log(`${s.messages} messages: chatflow compactions during measurement ${s.chatflow.compactions} (${s.chatflow.compactionMs.join(", ")} ms wall), preload ${s.chatflow.preloadMs} ms, reopen ${s.chatflow.reopenMs} ms; naive file ${(s.naive.fileBytes / 1e6).toFixed(1)} MB`);
  console.log("ratios:", JSON.stringify(r.ratios));
  console.log("targets:", Object.entries(r.targets).map(([k, v]) => `${k}: ${v ? "PASS" : "FAIL"}`).join(", "));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const report = await runStoreBench();
  console.log(JSON.stringify(report, null, 2));
  printTable(report);
}
