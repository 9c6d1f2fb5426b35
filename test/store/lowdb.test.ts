import { spawn, spawnSync } from "node:child_process";
import { appendFile, cp, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { StoreCorruptError, StoreLockedError } from "../../src/errors.ts";
import { createLowdbStore, type LowdbStoreOptions } from "../../src/store/lowdb/index.ts";
import type { Store } from "../../src/store/port.ts";
import { message, session, storeContract, task } from "./contract.ts";
import { scheduleContract } from "./schedule-contract.ts";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");

/** Temp dirs and stores made by a test; removed/closed after it. */
const dirs: string[] = [];
const stores: Store[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "chatflow-store-"));
  dirs.push(dir);
  return dir;
}

function recordingLogger() {
  const warnings: Array<{ obj: object; msg: string }> = [];
  return { warnings, warn: (obj: object, msg: string) => void warnings.push({ obj, msg }) };
}

async function openStore(dir: string, options: Partial<LowdbStoreOptions> = {}): Promise<Store> {
  const store = createLowdbStore({ dir, logger: { warn: () => undefined }, ...options });
  await store.open();
  stores.push(store);
  return store;
}

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function harness(options: Partial<LowdbStoreOptions>) {
  return async () => {
    const dir = await tempDir();
    const open = () => openStore(dir, options);
    // afterEach above closes the stores and removes the directory.
    return { store: await open(), reopen: open, cleanup: async () => undefined };
  };
}

storeContract("lowdb", harness({}));
storeContract("lowdb, compacting every few writes", harness({ compactAfterBytes: 2_000 }));
storeContract("lowdb, fsync", harness({ fsync: true }));
scheduleContract("lowdb", harness({}));
scheduleContract("lowdb, compacting every few writes", harness({ compactAfterBytes: 500 }));

/** The files as a killed process would leave them: a copy taken while the store is open. */
async function crashCopy(dir: string): Promise<string> {
  const copy = await tempDir();
  await cp(dir, copy, { recursive: true });
  return copy;
}

/** A pid that is certainly not running: a child that already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}

async function expectCorrupt(dir: string, file: string): Promise<StoreCorruptError> {
  const before = await readFile(file);
  const store = createLowdbStore({ dir, logger: { warn: () => undefined } });
  const error = await store.open().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreCorruptError);
  expect((error as StoreCorruptError).file).toBe(file);
  expect((error as Error).message).toContain(file);
  expect(await readFile(file)).toEqual(before);
  // The failed open released the lock: the same error again, not StoreLockedError.
  await expect(createLowdbStore({ dir, logger: { warn: () => undefined } }).open()).rejects.toBeInstanceOf(StoreCorruptError);
  expect(await readFile(file)).toEqual(before);
  return error as StoreCorruptError;
}

describe("lowdb store files", () => {
  it("uses LOCK, state.json, state.log and one history file per session", async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    expect(store.exclusive).toBe(true);
    const lock = JSON.parse(await readFile(join(dir, "LOCK"), "utf8"));
    expect(lock).toMatchObject({ pid: process.pid, hostname: hostname() });
    expect(typeof lock.startedAt).toBe("string");

    await store.createSession(session("s1"));
    await store.createTask(task("t1"));
    await store.appendMessage(message("s1", 0));
    await store.appendMessage(message("s2", 0));
    const log = (await readFile(join(dir, "state.log"), "utf8")).trim().split("\n");
    // The first line names the snapshot generation the log continues (see generations.ts).
    expect(JSON.parse(log[0]!)).toEqual({ t: "feedSeq", v: 0, gen: 1 });
    expect(log.slice(1).map((l) => JSON.parse(l).t)).toEqual(["session", "task"]);
    expect((await readdir(join(dir, "history"))).sort()).toEqual(["s1.jsonl", "s2.jsonl"]);
    expect(JSON.parse(await readFile(join(dir, "history", "s1.jsonl"), "utf8"))).toEqual(message("s1", 0));

    await store.close();
    await store.close(); // idempotent
    await expect(store.getSession("s1")).rejects.toThrow(/closed/);
    expect((await readdir(dir)).sort()).toEqual(["MANIFEST", "history", "state.json", "state.log"]);
    expect(await readFile(join(dir, "state.log"), "utf8")).toBe(`${JSON.stringify({ t: "feedSeq", v: 0, gen: 2 })}\n`);
    const snapshot = JSON.parse(await readFile(join(dir, "state.json"), "utf8"));
    expect(snapshot.gen).toBe(2);
    expect(JSON.parse(await readFile(join(dir, "MANIFEST"), "utf8"))).toMatchObject({ format: 1, gen: 2, feedSeq: 0 });
    expect(snapshot.sessions).toEqual([session("s1")]);
    expect(snapshot.tasks).toEqual([task("t1")]);
  });

  it("refuses session ids that could leave the history directory", async () => {
    const store = await openStore(await tempDir());
    for (const bad of ["../x", "a/b", "", ".", "a\\b", "x".repeat(200)]) {
      await expect(store.appendMessage(message(bad, 0))).rejects.toThrow(/Invalid session id/);
      await expect(store.createSession(session(bad))).rejects.toThrow(/Invalid session id/);
      expect(await store.listMessages(bad, 5)).toEqual([]);
    }
  });

  it("keeps history right for more sessions than its tail cache holds", async () => {
    const store = await openStore(await tempDir());
    const sessions = Array.from({ length: 300 }, (_, i) => `s${i}`);
    await Promise.all(sessions.flatMap((id) => [0, 1, 2].map((i) => store.appendMessage(message(id, i)))));
    for (const round of [0, 1]) {
      for (const id of sessions) {
        if (round === 1) await store.appendMessage(message(id, 3));
        expect((await store.listMessages(id, 2)).map((m) => m.id)).toEqual(round === 0 ? [`${id}-m1`, `${id}-m2`] : [`${id}-m2`, `${id}-m3`]);
      }
    }
  });

  it("compacts when the log passes compactAfterBytes, keeping changes made meanwhile", async () => {
    const dir = await tempDir();
    const infos: object[] = [];
    const logger = { warn: () => undefined, info: (obj: object) => void infos.push(obj) };
    const store = await openStore(dir, { compactAfterBytes: 20_000, logger });
    const atOpen = infos.length; // a new directory gets its first marked snapshot at open
    await store.createTask(task("t1"));
    for (let round = 0; round < 20; round++) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.updateTask("t1", { percent: round * 20 + i, step: "x".repeat(100) })));
    }
    // About 220 KB of updates went through a log that is cut back while they go on.
    // Wait for the compaction in flight; an update while the log is still past the limit starts another.
    let percent = 399;
    const deadline = Date.now() + 20_000;
    while (infos.length === atOpen || (await stat(join(dir, "state.log"))).size >= 20_000) {
      if (Date.now() > deadline) throw new Error("the log was never compacted below the limit");
      await store.updateTask("t1", { percent: percent++ });
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(infos.length).toBeGreaterThan(atOpen);
    const last = (await store.getTask("t1"))!;
    const copy = await crashCopy(dir);
    expect(await (await openStore(copy)).getTask("t1")).toMatchObject({ rev: last.rev, percent: last.percent });
  });
});

describe("lowdb store lock", () => {
  it("refuses a second store on the same directory, naming it, the pid and what to do", async () => {
    const dir = await tempDir();
    const first = await openStore(dir);
    const error = await createLowdbStore({ dir }).open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreLockedError);
    expect((error as Error).message).toBe(
      `The data directory ${dir} is in use by another chatflow process (pid ${process.pid}). Stop that process first, or point store.dir at another directory.`,
    );
    await first.close();
    await openStore(dir);
  });

  it("takes over a lock left by a dead process, or an empty one left by a crash", async () => {
    const dir = await tempDir();
    const pid = deadPid();
    await writeFile(join(dir, "LOCK"), JSON.stringify({ pid, hostname: hostname(), startedAt: new Date().toISOString() }));
    const logger = recordingLogger();
    const store = await openStore(dir, { logger });
    expect(JSON.parse(await readFile(join(dir, "LOCK"), "utf8")).pid).toBe(process.pid);
    expect(logger.warnings.some((w) => /stale/.test(w.msg))).toBe(true);
    await store.close();

    await writeFile(join(dir, "LOCK"), "");
    const old = new Date(Date.now() - 60_000);
    await utimes(join(dir, "LOCK"), old, old);
    await (await openStore(dir)).close();
    await writeFile(join(dir, "LOCK"), '{"pid":12');
    await (await openStore(dir)).close();
  });

  it("refuses a lock held on another host, saying how to clear it", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "LOCK"), JSON.stringify({ pid: 1234, hostname: "elsewhere.example", startedAt: "x" }));
    const error = await createLowdbStore({ dir }).open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreLockedError);
    expect((error as Error).message).toContain("elsewhere.example");
    expect((error as Error).message).toContain(join(dir, "LOCK"));
  });

  it("holds against a real second process; after SIGKILL the lock is taken over and no data is lost", async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ["--import", "tsx", join(here, "fixtures", "hold-store.ts"), dir], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    try {
      await new Promise<void>((resolveReady, reject) => {
        let out = "";
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          if (out.includes("ready")) resolveReady();
        });
        child.on("exit", (code) => reject(new Error(`fixture exited with ${code}: ${stderr}`)));
      });
      const error = await createLowdbStore({ dir }).open().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreLockedError);
      expect((error as Error).message).toContain(`pid ${child.pid}`);
      expect((error as Error).message).toContain(dir);
    } finally {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
    }
    const store = await openStore(dir);
    expect(await store.getSession("child")).toMatchObject({ owner: "bob", state: "running" });
    expect((await store.listMessages("child", 10)).map((m) => m.text)).toEqual(["hello from the child"]);
  });
});

describe("lowdb store corruption and crashes", () => {
  async function populated(): Promise<{ dir: string; store: Store }> {
    const dir = await tempDir();
    const store = await openStore(dir);
    for (let i = 0; i < 5; i++) await store.createSession(session(`s${i}`, { lastActiveAt: i }));
    return { dir, store };
  }

  it("refuses a truncated or wrongly shaped snapshot without changing it", async () => {
    const { dir, store } = await populated();
    await store.close();
    const file = join(dir, "state.json");
    const full = await readFile(file);
    await writeFile(file, full.subarray(0, Math.floor(full.length / 2)));
    const error = await expectCorrupt(dir, file);
    expect(error.message).toMatch(/not valid JSON/);
    await writeFile(file, JSON.stringify({ version: 1, gen: 2, sessions: "nope" }));
    expect((await expectCorrupt(dir, file)).message).toMatch(/sessions/);
    // A single record of the wrong shape is set aside instead (lowdb-quarantine.test.ts).
  });

  it("refuses a log with a bad line in the middle without changing it", async () => {
    const { dir } = await populated();
    const copy = await crashCopy(dir);
    const file = join(copy, "state.log");
    const lines = (await readFile(file, "utf8")).split("\n");
    lines.splice(2, 0, '{"t":"session","v":{"id":"x"'); // a torn line that is not the last
    await writeFile(file, lines.join("\n"));
    expect((await expectCorrupt(copy, file)).message).toMatch(/line 3/);
    await writeFile(file, lines.join("\n").replace('{"t":"session","v":{"id":"x"\n', '{"t":"what"}\n'));
    await expectCorrupt(copy, file);
  });

  it("tolerates a torn last log line (killed mid-append): earlier records stay, new appends are clean", async () => {
    const { dir } = await populated();
    const copy = await crashCopy(dir);
    await appendFile(join(copy, "state.log"), '{"t":"session","v":{"id":"torn","key":"k');
    const logger = recordingLogger();
    const store = await openStore(copy, { logger });
    expect(logger.warnings.some((w) => /torn/.test(w.msg))).toBe(true);
    expect((await store.listSessions()).items.map((s) => s.id)).toEqual(["s4", "s3", "s2", "s1", "s0"]);
    expect(await store.getSession("torn")).toBeUndefined();
    await store.createSession(session("after"));
    // Crash again (no close), then reopen: the new record is intact.
    const again = await crashCopy(copy);
    const reopened = await openStore(again);
    expect(await reopened.getSession("after")).toEqual(session("after"));
    expect((await reopened.listSessions()).items).toHaveLength(6);
  });

  it("survives a crash between writing the snapshot and cutting the log (replay is idempotent)", async () => {
    const { dir, store } = await populated();
    await store.createTask(task("t1"));
    await store.updateTask("t1", { status: "running" });
    await store.updateSession("s1", { state: "closed" });
    await store.deleteTasks(["t1"]);
    await store.createTask(task("t2"));
    const copy = await crashCopy(dir); // old (no) snapshot + full log
    await store.close(); // writes the snapshot of the same state
    await cp(join(dir, "state.json"), join(copy, "state.json"));
    await writeFile(join(copy, ".state.json.tmp"), "{half a snap"); // leftovers of a crashed write
    await writeFile(join(copy, "state.log.tmp"), "junk");
    const reopened = await openStore(copy);
    expect(await reopened.getTask("t1")).toBeUndefined();
    expect(await reopened.getTask("t2")).toEqual(task("t2"));
    expect(await reopened.findOpenSession("console:s1")).toBeUndefined();
    expect((await reopened.listSessions()).items).toHaveLength(5);
  });

  it("history: tolerates a torn last line (bad lines in the middle: lowdb-bad-lines.test.ts)", async () => {
    const { dir, store } = await populated();
    for (let i = 0; i < 5; i++) await store.appendMessage(message("s1", i));
    const copy = await crashCopy(dir);
    const file = join(copy, "history", "s1.jsonl");
    await appendFile(file, '{"id":"s1-m5","sessionId":"s1","ro');
    const logger = recordingLogger();
    const a = await openStore(copy, { logger });
    expect((await a.listMessages("s1", 10)).map((m) => m.id)).toEqual(["s1-m0", "s1-m1", "s1-m2", "s1-m3", "s1-m4"]);
    await a.appendMessage(message("s1", 6));
    expect(logger.warnings.some((w) => /torn/.test(w.msg))).toBe(true);
    const b = await openStore(await crashCopy(copy));
    expect((await b.listMessages("s1", 3)).map((m) => m.id)).toEqual(["s1-m3", "s1-m4", "s1-m6"]);
  });

  it("drops a torn log tail even when it is the only content", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "state.log"), '{"t":"sess');
    const store = await openStore(dir);
    await store.createSession(session("s1"));
    const copy = await crashCopy(dir);
    expect(await (await openStore(copy)).getSession("s1")).toEqual(session("s1"));
  });
});
