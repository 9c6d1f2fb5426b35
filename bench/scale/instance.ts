/**
 * Child process of the scale benchmark (bench/scale.ts): one chatflow process with the IPC
 * adapter (the bench plays the one chat platform, test/multi/platform.ts) and the web adapter
 * (its HTTP API and SSE on a free port), on the PostgreSQL store at CHATFLOW_DATABASE_URL or
 * (SCALE_STORE=lowdb) on lowdb in SCALE_DIR. Plain messages run the `bench` workflow:
 *   "io <n>"   three steps waiting 200–500 ms each (a model call, an HTTP request), with progress;
 *   "tiny <n>" one step of ~0 ms, with progress;
 *   "hold <n>" one step that waits ten minutes, telling the bench whenever it starts (takeover).
 * Besides, it tells the bench over IPC:
 *   { type: "appended", items: [[seq, at], …] }  when its feed appends committed (stamped with harness.now());
 *   { type: "step", taskId, n, at }             when a "hold" step starts;
 *   { type: "stats", … }                        on { type: "stats" }: CPU time and statements sent so far.
 * SCALE_PROFILE=<dir> writes a CPU profile of the process there when it is stopped with SIGTERM.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createWebAdapter } from "../../adapters/web/index.ts";
import { createBot } from "../../src/app.ts";
import { silentLogger } from "../../src/logger.ts";
import { createLowdbStore } from "../../src/store/lowdb/index.ts";
import type { Store } from "../../src/store/port.ts";
import { createPostgresStore } from "../../src/store/postgres/index.ts";
import type { FeedRecord, NewFeedRecord } from "../../src/store/records.ts";
import { defineWorkflow } from "../../src/tasks/workflow.ts";
import { createIpcAdapter } from "../../test/crash/ipc-adapter.ts";
import { countQueries, now, queryCounts } from "./harness.ts";

countQueries();
const instance = process.env.CHATFLOW_INSTANCE_ID!;
const lowdb = process.env.SCALE_STORE === "lowdb";
const send = (message: object) => {
  if (process.connected) process.send!(message, undefined, undefined, () => undefined);
};

/** The wait of I/O step `k` of task `n`: 200–500 ms, spread evenly and the same in every run. */
const ioDelay = (n: number, k: number) => 200 + ((n * 7919 + k * 104_729) % 301);

const bench = defineWorkflow({
  name: "bench",
  async run(ctx, input: { text: string }) {
    const [kind, number] = input.text.split(" ");
    const n = Number(number);
    if (kind === "hold") {
      await ctx.step("hold", async (signal) => {
        send({ type: "step", taskId: ctx.taskId, n, at: now(), instance });
        await sleep(600_000, undefined, { signal });
        return "held";
      });
      return { text: `held ${n}` };
    }
    if (kind === "tiny") {
      await ctx.progress(50, "one");
      await ctx.step("one", () => "ok");
      return { text: `tiny ${n}` };
    }
    for (let k = 0; k < 3; k++) {
      await ctx.progress(10 + 30 * k, `step ${k + 1}`);
      await ctx.step(`io${k}`, (signal) => sleep(ioDelay(n, k), undefined, { signal }).then(() => k));
    }
    return { text: `done ${n}` };
  },
});

const store: Store = lowdb
  ? createLowdbStore({ dir: path.join(process.env.SCALE_DIR!, "store"), logger: { warn: () => undefined, info: () => undefined } })
  : createPostgresStore({ url: process.env.CHATFLOW_DATABASE_URL!, applicationName: `chatflow ${instance}`, logger: { warn: () => undefined } });

// When this process's feed appends commit: the moment another process can first see the event.
let appended: [number, number][] = [];
const append = store.appendFeedEvents.bind(store);
store.appendFeedEvents = async (events: NewFeedRecord[]): Promise<FeedRecord[]> => {
  const stored = await append(events);
  const at = now();
  for (const e of stored) appended.push([e.seq, at]);
  return stored;
};
setInterval(() => {
  if (appended.length === 0) return;
  send({ type: "appended", instance, items: appended });
  appended = [];
}, 100).unref();

const env = { ...process.env };
const web = createWebAdapter({ config: { port: 0 }, env });
const bot = await createBot({
  config: {
    store: { driver: lowdb ? "lowdb" : "postgres" },
    tasks: { busy: "queue", concurrency: Number(process.env.SCALE_CONCURRENCY ?? 20), leaseSeconds: Number(process.env.SCALE_LEASE_SECONDS ?? 30), startsPerUserPerMinute: 0 },
    routes: { default: { message: "bench" } },
    reviewers: ["web:watcher"],
  },
  store,
  adapters: [createIpcAdapter(), web],
  workflows: [bench],
  logger: silentLogger(),
  env,
});
await bot.start();

process.on("message", (raw) => {
  const message = raw as { type: string };
  if (message.type === "stats") {
    const cpu = process.cpuUsage();
    send({ type: "stats", instance, cpuMicros: cpu.user + cpu.system, queries: queryCounts() });
  }
});
send({ type: "ready", url: web.url, instance });
// SCALE_PROFILE=<dir>: a CPU profile of this process, written there when it is stopped with SIGTERM.
const profile = process.env.SCALE_PROFILE ? new Session() : undefined;
if (profile) {
  profile.connect();
  await profile.post("Profiler.enable");
  await profile.post("Profiler.start");
}
process.on("SIGTERM", () => {
  void (async () => {
    if (profile) {
      const { profile: taken } = await profile.post("Profiler.stop");
      writeFileSync(path.join(process.env.SCALE_PROFILE!, `${instance}-${process.pid}.cpuprofile`), JSON.stringify(taken));
    }
    await bot.stop();
    process.exit(0);
  })();
});
