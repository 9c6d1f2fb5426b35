/**
 * What the scale benchmark (bench/scale.ts) and its child processes (bench/scale/instance.ts)
 * share: one clock for timestamps taken in different processes, the database round-trip
 * counter, a database per measurement, the CPU time of PostgreSQL's backends, a small SSE
 * client that stamps each event's arrival, and percentiles.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import pg from "pg";
import { newId } from "../../src/ids.ts";

/**
 * Epoch ms with sub-millisecond resolution. Every process on the machine derives it from the
 * same system clock (timeOrigin) and its own monotonic clock, so stamps taken in the bench
 * and in its children compare.
 */
export const now = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `done()` holds, checking every `everyMs`; throws naming `what` after `timeoutMs`. */
export async function waitFor(done: () => boolean, what: string, timeoutMs: number, everyMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`scale bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The nearest-rank percentile of some values (0 for none). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const round = (value: number, digits = 1): number => +value.toFixed(digits);

export function latencySummary(values: readonly number[]): { samples: number; p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number } {
  return { samples: values.length, p50Ms: round(percentile(values, 50)), p90Ms: round(percentile(values, 90)), p99Ms: round(percentile(values, 99)), maxMs: round(values.length ? Math.max(...values) : 0) };
}

// ---------------------------------------------------------------------------------------------
// Database round trips, counted in the client.

/** Statements sent to PostgreSQL (each one request and its answer: one round trip), per database. */
export interface QueryCounts {
  /** Every statement sent, BEGIN and COMMIT included. */
  statements: number;
  /** Transactions: BEGIN … COMMIT/ROLLBACK blocks, plus statements sent outside one (each its own transaction). */
  transactions: number;
  /** Statements by their normalized text (first 90 characters, schema and whitespace folded). */
  byStatement: Record<string, number>;
}

const counts = new Map<string, QueryCounts>();
const inTransaction = new WeakSet<object>();
let installed = false;

function normalize(sql: string): string {
  return sql.replace(/"[a-z0-9_]+"\./g, "").replace(/\s+/g, " ").trim().slice(0, 90);
}

/**
 * Counts every statement a `pg.Client` of this process sends (pool clients and the LISTEN
 * client are `pg.Client`s too), by database. node-postgres sends one statement and waits for
 * its answer before the next on a connection (no pipelining), so one statement is one round
 * trip. Connecting (startup, authentication) is not counted: pools keep their connections.
 */
export function countQueries(): void {
  if (installed) return;
  installed = true;
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string } | undefined;
    const text = typeof first === "string" ? first : (first?.text ?? "");
    const database = (this as unknown as { database?: string }).database ?? "";
    let c = counts.get(database);
    if (!c) counts.set(database, (c = { statements: 0, transactions: 0, byStatement: {} }));
    c.statements++;
    const key = normalize(text);
    c.byStatement[key] = (c.byStatement[key] ?? 0) + 1;
    const verb = key.slice(0, 8).toUpperCase();
    if (verb.startsWith("BEGIN")) inTransaction.add(this);
    else if (verb.startsWith("COMMIT") || verb.startsWith("ROLLBACK")) {
      inTransaction.delete(this);
      c.transactions++;
    } else if (!inTransaction.has(this)) c.transactions++;
    return original.apply(this, args);
  };
}

/** A copy of the counts so far of one database (all databases summed without one). */
export function queryCounts(database?: string): QueryCounts {
  const sum: QueryCounts = { statements: 0, transactions: 0, byStatement: {} };
  for (const [name, c] of counts) {
    if (database !== undefined && name !== database) continue;
    sum.statements += c.statements;
    sum.transactions += c.transactions;
    for (const [k, v] of Object.entries(c.byStatement)) sum.byStatement[k] = (sum.byStatement[k] ?? 0) + v;
  }
  return sum;
}

export function addCounts(a: QueryCounts, b: QueryCounts, sign = 1): QueryCounts {
  const byStatement = { ...a.byStatement };
  for (const [k, v] of Object.entries(b.byStatement)) byStatement[k] = (byStatement[k] ?? 0) + sign * v;
  return { statements: a.statements + sign * b.statements, transactions: a.transactions + sign * b.transactions, byStatement };
}

/** The `n` most frequent statements, per task. */
export function topStatements(c: QueryCounts, tasks: number, n = 12): Record<string, number> {
  return Object.fromEntries(
    Object.entries(c.byStatement)
      .filter(([, v]) => v > 0)
      .sort((x, y) => y[1] - x[1])
      .slice(0, n)
      .map(([k, v]) => [k, round(v / tasks, 2)]),
  );
}

// ---------------------------------------------------------------------------------------------
// A database per measurement.

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createDatabase(adminUrl: string, label: string): Promise<BenchDatabase> {
  const name = `chatflow_bench_${label}_${newId(6).toLowerCase().replace(/[^a-z0-9]/g, "")}`;
  await admin(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop: () => admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined) };
}

/** Transactions committed and rolled back in a database, as PostgreSQL counts them (pg_stat_database; backends report theirs when idle or at exit). */
export async function serverTransactions(adminUrl: string, database: string): Promise<number> {
  return admin(adminUrl, async (c) => {
    const { rows } = await c.query<{ n: string }>("SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1", [database]);
    return Number(rows[0]?.n ?? 0);
  });
}

// ---------------------------------------------------------------------------------------------
// CPU time of PostgreSQL's backends (one process per connection), read from /proc.

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU µs of a process, from /proc (undefined when it can't be read: gone, or on another machine). */
function procCpuMicros(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After the name: state is field 3 of the full line, utime 14 and stime 15.
    return ((Number(fields[11]) + Number(fields[12])) / clockTicks()) * 1e6;
  } catch {
    return undefined;
  }
}

/** The backends of one database: pid → CPU µs so far; `readable` false when none could be read (a server elsewhere). */
export async function backendCpu(adminUrl: string, database: string): Promise<{ readable: boolean; byPid: Map<number, number> }> {
  const pids = await admin(adminUrl, async (c) => (await c.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = $1", [database])).rows.map((r) => r.pid));
  const byPid = new Map<number, number>();
  for (const pid of pids) {
    const cpu = procCpuMicros(pid);
    if (cpu !== undefined) byPid.set(pid, cpu);
  }
  return { readable: pids.length === 0 || byPid.size > 0, byPid };
}

/** CPU µs the backends used between two readings (a backend that appeared meanwhile counts whole). */
export function backendCpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, cpu] of after) sum += cpu - (before.get(pid) ?? 0);
  return sum;
}

/** The machine's CPU time so far, busy and total, in clock ticks of all cores (/proc/stat); undefined elsewhere. */
export function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
    const [, ...fields] = line.trim().split(/\s+/);
    const n = fields.map(Number);
    const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
    // idle and iowait are not busy.
    return { busy: total - n[3]! - n[4]!, total };
  } catch {
    return undefined;
  }
}

/** The share of the machine's cores busy between two readings (0–1). */
export function busyShare(before: ReturnType<typeof machineTicks>, after: ReturnType<typeof machineTicks>): number | undefined {
  if (!before || !after || after.total === before.total) return undefined;
  return round((after.busy - before.busy) / (after.total - before.total), 2);
}

