/**
 * A store whose files went backwards (state.log emptied or cut short, state.json deleted or
 * replaced by an older copy, a feed counter reservation lost) is refused, naming the files,
 * with every file left byte for byte as it was; what a crash can leave is still accepted; a
 * new directory and one written before generation marks open; deleting MANIFEST accepts the
 * files as they are, and feed seqs are never reused.
 */
import { readFile, rm, truncate, writeFile, cp, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { StoreCorruptError } from "../../src/errors.ts";
import type { Store } from "../../src/store/port.ts";
import type { NewFeedRecord } from "../../src/store/records.ts";
import { message, session, task } from "./contract.ts";
import { crashCopy, filesOf, openError, openStore, recordingLogger, tempDir, useTempFiles, waitFor } from "./fixtures/files.ts";

useTempFiles();

const ev = (sessionId: string, i: number): NewFeedRecord => ({ type: "message", sessionId, at: 1_700_000_000_000 + i, data: { i } });

/** A store with sessions, a waiting task, messages and feed events, all in the log (not compacted). */
async function busyStore(dir: string): Promise<Store> {
  const store = await openStore(dir);
  for (let i = 0; i < 5; i++) await store.createSession(session(`s${i}`, { lastActiveAt: i }));
  await store.createTask(task("t1", { status: "waiting" }));
  await store.appendMessage(message("s1", 0));
  await store.appendFeedEvents([ev("s1", 0), ev("s1", 1), ev("s2", 2)]);
  return store;
}

/** The data files: not LOCK, which a crash copy holds for a process that is gone (taken over, then released). */
async function dataFiles(dir: string): Promise<Map<string, Buffer>> {
  const files = await filesOf(dir);
  files.delete("LOCK");
  return files;
}

/** Opening `dir` is refused with StoreRolledBackError naming `files`, and changes nothing (twice: the failed open released the lock). */
async function expectRefused(dir: string, files: string[]): Promise<Error> {
  const before = await dataFiles(dir);
  const error = await openError(dir);
  expect(error).toBeInstanceOf(StoreCorruptError);
  expect(error.name).toBe("StoreRolledBackError");
  for (const f of files) expect(error.message).toContain(join(dir, f));
  expect(error.message).toContain("chatflow changed nothing");
  expect(error.message).toContain(`delete ${join(dir, "MANIFEST")}`);
  expect(error.message).not.toMatch(/\n\s+at /); // a sentence, no stack trace
  expect(await dataFiles(dir)).toEqual(before);
  expect((await openError(dir)).message).toBe(error.message);
  expect(await dataFiles(dir)).toEqual(before);
  return error;
}

const manifest = async (dir: string) => JSON.parse(await readFile(join(dir, "MANIFEST"), "utf8")) as { gen: number; logBytes: number; feedSeq: number };
const logSize = async (dir: string) => (await readFile(join(dir, "state.log"))).length;

describe("lowdb store that went backwards", () => {
  it("refuses a state.log emptied or deleted after a crash", async () => {
    const dir = await tempDir();
    await busyStore(dir);
    const emptied = await crashCopy(dir);
    await writeFile(join(emptied, "state.log"), "");
    const error = await expectRefused(emptied, ["state.log", "MANIFEST"]);
    expect(error.message).toMatch(/state\.log is empty or missing/);
    const deleted = await crashCopy(dir);
    await rm(join(deleted, "state.log"));
    await expectRefused(deleted, ["state.log"]);
  });

  it("refuses a state.log cut short below the high-water mark", async () => {
    const dir = await tempDir();
    const store = await busyStore(dir);
    for (let i = 0; i < 20; i++) await store.updateTask("t1", { percent: i });
    // The mark follows the log within about a second (never ahead of what is on the disk).
    await waitFor("the high-water mark to reach the log's size", async () => (await manifest(dir)).logBytes === (await logSize(dir)));
    const copy = await crashCopy(dir);
    const lines = (await readFile(join(copy, "state.log"), "utf8")).split("\n");
    // Whole lines cut off (not a torn last line, which a kill can leave and is accepted).
    await writeFile(join(copy, "state.log"), `${lines.slice(0, 3).join("\n")}\n`);
    const error = await expectRefused(copy, ["state.log"]);
    expect(error.message).toMatch(/was cut short/);
  });

  it("refuses a state.json deleted after a clean stop, or replaced by an older copy", async () => {
    const dir = await tempDir();
    const store = await busyStore(dir);
    await store.close();
    const older = await readFile(join(dir, "state.json"));
    const deleted = await crashCopy(dir);
    await rm(join(deleted, "state.json"));
    expect((await expectRefused(deleted, ["state.json"])).message).toMatch(/state\.json is missing/);

    const again = await openStore(dir);
    await again.createSession(session("newer"));
    await again.close();
    await writeFile(join(dir, "state.json"), older);
    expect((await expectRefused(dir, ["state.json"])).message).toMatch(/replaced by an older copy/);
  });

  it("refuses a log that lost a feed counter reservation (seqs would be reused), even at the same length", async () => {
    const dir = await tempDir();
    await busyStore(dir);
    const copy = await crashCopy(dir);
    const file = join(copy, "state.log");
    const text = await readFile(file, "utf8");
    const reservation = text.split("\n").find((l) => l.startsWith('{"t":"feedSeq"') && !l.includes('"gen"'))!;
    expect(JSON.parse(reservation).v).toBeGreaterThanOrEqual(3);
    // The same number of bytes, so only the feed counter mark can tell.
    const filler = `{"t":"taskDel","k":"${"z".repeat(reservation.length - 22)}"}`;
    expect(filler.length).toBe(reservation.length);
    await writeFile(file, text.replace(reservation, filler));
    expect((await expectRefused(copy, ["state.log"])).message).toMatch(/events up to seq \d+ may have been numbered/);
  });

  it("accepts what a crash inside a compaction leaves: the log or MANIFEST a generation behind", async () => {
    const dir = await tempDir();
    const store = await busyStore(dir);
    const logBehind = await crashCopy(dir);
    const marksBehind = await crashCopy(dir);
    await store.close();
    // Killed after the new snapshot, before the log was cut: the old log is replayed over it.
    await cp(join(dir, "state.json"), join(logBehind, "state.json"));
    // Killed after the log was cut, before MANIFEST followed.
    await cp(join(dir, "state.json"), join(marksBehind, "state.json"));
    await cp(join(dir, "state.log"), join(marksBehind, "state.log"));
    for (const copy of [logBehind, marksBehind]) {
      const reopened = await openStore(copy);
      expect((await reopened.listSessions()).items).toHaveLength(5);
      expect((await reopened.getTask("t1"))?.status).toBe("waiting");
    }
  });

  it("opens a new directory, and one written before generation marks (migrated at open)", async () => {
    const fresh = await tempDir();
    const store = await openStore(join(fresh, "not-yet-there"));
    await store.createSession(session("s1"));
    await store.close();

    const legacy = await tempDir();
    await writeFile(join(legacy, "state.json"), JSON.stringify({ version: 1, sessions: [session("old")], tasks: [], journal: [], outbox: [], schedules: [], feedSeq: 1003, events: [] }));
    await writeFile(join(legacy, "state.log"), `${JSON.stringify({ t: "task", v: task("t1", { sessionId: "old" }) })}\n`);
    await mkdir(join(legacy, "feed"));
    await writeFile(join(legacy, "feed", "old.jsonl"), [1, 2, 3].map((seq) => JSON.stringify({ seq, ...ev("old", seq) })).join("\n") + "\n");
    const logger = recordingLogger();
    const migrated = await openStore(legacy, { logger });
    expect(logger.warnings).toEqual([]);
    expect(await migrated.getSession("old")).toEqual(session("old"));
    expect(await migrated.getTask("t1")).toEqual(task("t1", { sessionId: "old" }));
    expect((await migrated.readFeed()).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(JSON.parse(await readFile(join(legacy, "state.json"), "utf8")).gen).toBe(1);
    expect(JSON.parse((await readFile(join(legacy, "state.log"), "utf8")).split("\n")[0]!)).toEqual({ t: "feedSeq", v: 1003, gen: 1 });
    expect(await manifest(legacy)).toMatchObject({ gen: 1, feedSeq: 1003 });
    expect((await migrated.appendFeedEvents([ev("old", 4)]))[0]!.seq).toBeGreaterThan(1003);
  });

  it("deleting MANIFEST accepts the files as they are, with a warning, and never reuses a seq on disk", async () => {
    const dir = await tempDir();
    const store = await busyStore(dir);
    const onDisk = await store.appendFeedEvents([ev("s3", 3)]);
    const copy = await crashCopy(dir);
    await writeFile(join(copy, "state.log"), "");
    await expectRefused(copy, ["state.log"]);
    await rm(join(copy, "MANIFEST"));
    const logger = recordingLogger();
    const accepted = await openStore(copy, { logger });
    expect(logger.warnings.map((w) => w.msg).join("\n")).toContain(`${join(copy, "MANIFEST")} is missing: taking`);
    expect(logger.warnings.some((w) => /feed files hold events up to seq/.test(w.msg))).toBe(true);
    const [next] = await accepted.appendFeedEvents([ev("s1", 9)]);
    expect(next!.seq).toBeGreaterThan(onDisk[0]!.seq);
    // And it is marked again: the next start checks.
    await accepted.close();
    await truncate(join(copy, "state.log"), 0);
    await expectRefused(copy, ["state.log"]);
  });
});
