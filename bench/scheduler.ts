/**
 * Scheduler benchmarks: start-up time and memory with 10,000 schedules stored, and fire
 * lateness with 1,000 schedules due in the same second (lowdb store); each beside bare croner jobs
 * measured in the same run. Run: `npm run bench -- scheduler`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Cron } from "croner";
import { createBot } from "../src/app.ts";
import { silentLogger } from "../src/logger.ts";
import type { Schedule } from "../src/store/records.ts";
import { createLowdbStore } from "../src/store/lowdb/index.ts";
import { createRecordingAdapter } from "../src/testing/recording-adapter.ts";
import { machine } from "./machine.ts";

function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

function schedule(i: number, cron: string, now: number): Schedule {
  return { id: `s${i}`, rev: 1, cron, timezone: "UTC", target: { platform: "test", channel: `c${i % 500}`, user: "u" }, text: `tick ${i}`, enabled: true, missedPolicy: "skip", failures: 0, origin: "chat", lastSlot: now, createdAt: now, updatedAt: now };
}

async function startup(count: number): Promise<{ ms: number; bytesEach: number; bareMs: number; bareBytesEach: number }> {
  const dir = await mkdtemp(path.join(tmpdir(), "chatflow-bench-sched-"));
  const seed = createLowdbStore({ dir });
  await seed.open();
  const now = Date.now();
  await Promise.all(Array.from({ length: count }, (_, i) => seed.createSchedule(schedule(i, `${i % 60} ${i % 24} * * *`, now))));
  await seed.close();

  const before = heapUsed();
  const started = performance.now();
  const bot = await createBot({ store: createLowdbStore({ dir }), adapters: [createRecordingAdapter()], logger: silentLogger() });
  await bot.start();
  const ms = performance.now() - started;
  const bytesEach = (heapUsed() - before) / count;
  const state = await bot.schedulerState();
  if (state.schedules.filter((s) => s.next !== null).length !== count) throw new Error("not every schedule is armed");
  await bot.stop();
  await rm(dir, { recursive: true, force: true });

  const bareBefore = heapUsed();
  const bareStarted = performance.now();
  const jobs = Array.from({ length: count }, (_, i) => new Cron(`${i % 60} ${i % 24} * * *`, { timezone: "UTC" }, () => {}));
  const bareMs = performance.now() - bareStarted;
  const bareBytesEach = (heapUsed() - bareBefore) / count;
  for (const job of jobs) job.stop();
  return { ms, bytesEach, bareMs, bareBytesEach };
}

/** A 6-field cron for the whole second `at`. */
function cronAt(at: Date): string {
  return `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} ${at.getUTCDate()} ${at.getUTCMonth() + 1} *`;
}

async function lateness(count: number): Promise<{ p50: number; p99: number; max: number; bareP50: number; bareP99: number }> {
  const dir = await mkdtemp(path.join(tmpdir(), "chatflow-bench-sched-"));
  const seed = createLowdbStore({ dir });
  const adapter = createRecordingAdapter();
  const slot = new Date(Math.ceil((Date.now() + 3000) / 1000) * 1000);
  const now = Date.now();
  await seed.open();
  await Promise.all(Array.from({ length: count }, (_, i) => seed.createSchedule(schedule(i, cronAt(slot), now))));
  await seed.close();
  const bot = await createBot({ store: createLowdbStore({ dir }), adapters: [adapter], logger: silentLogger() });
  await bot.start();
  while (adapter.sent.length < count) await new Promise((resolve) => setTimeout(resolve, 50));
  const late = adapter.sent.map((s) => s.at - slot.getTime());
  await bot.stop();
  await rm(dir, { recursive: true, force: true });
  // The bare baseline, after: the same number of croner jobs due in the same second, recording when their callback runs.
  const bareSlot = new Date(Math.ceil((Date.now() + 3000) / 1000) * 1000);
  const bareLate: number[] = [];
  const bare = Array.from({ length: count }, () => new Cron(cronAt(bareSlot), { timezone: "UTC" }, () => void bareLate.push(Date.now() - bareSlot.getTime())));
  while (bareLate.length < count) await new Promise((resolve) => setTimeout(resolve, 50));
  for (const job of bare) job.stop();
  return { p50: percentile(late, 50), p99: percentile(late, 99), max: Math.max(...late), bareP50: percentile(bareLate, 50), bareP99: percentile(bareLate, 99) };
}

export async function runSchedulerBench(): Promise<Record<string, unknown>> {
  const boot = await startup(10_000);
  const fire = await lateness(1_000);
  return {
    machine: machine(),
    startup: {
      schedules: 10_000,
      startMs: Math.round(boot.ms),
      kibEach: +(boot.bytesEach / 1024).toFixed(2),
      bareCronerMs: Math.round(boot.bareMs),
      bareCronerKibEach: +(boot.bareBytesEach / 1024).toFixed(2),
    },
    fireLateness: {
      schedulesDueTogether: 1_000,
      p50Ms: fire.p50,
      p99Ms: fire.p99,
      maxMs: fire.max,
      bareCronerP50Ms: fire.bareP50,
      bareCronerP99Ms: fire.bareP99,
      target: "p99 < 100 ms",
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(JSON.stringify(await runSchedulerBench(), null, 2));
}
