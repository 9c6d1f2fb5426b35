/**
 * Garbage inside a history or feed file: reads skip the bad line and name the file and line
 * (once), the file is kept as it was under `<id>.jsonl.corrupt-<time>`, a fresh file holds
 * the readable records, and nothing is ever appended after a bad line.
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { NewFeedRecord } from "../../src/store/records.ts";
import { message } from "./contract.ts";
import { crashCopy, openStore, recordingLogger, tempDir, useTempFiles } from "./fixtures/files.ts";

useTempFiles();

const ev = (sessionId: string, i: number): NewFeedRecord => ({ type: "message", sessionId, at: 1_700_000_000_000 + i, data: { i } });

/** Replaces line `index` (0-based) of `file` by `text`; resolves the new bytes. */
async function spoilLine(file: string, index: number, text: string): Promise<Buffer> {
  const lines = (await readFile(file, "utf8")).split("\n");
  lines[index] = text;
  await writeFile(file, lines.join("\n"));
  return readFile(file);
}

/** The `.corrupt-<time>` files next to `file`. */
async function setAside(file: string): Promise<string[]> {
  const dir = join(file, "..");
  const base = file.slice(dir.length + 1);
  return (await readdir(dir)).filter((n) => n.startsWith(`${base}.corrupt-`)).map((n) => join(dir, n));
}

const lineCount = async (file: string) => (await readFile(file, "utf8")).split("\n").filter(Boolean).length;

describe("lowdb store: bad lines in history files", () => {
  it("a list across a bad line skips it, names file and line once, and sets the file aside; appends continue in a fresh file", async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    await Promise.all(Array.from({ length: 150 }, (_, i) => store.appendMessage(message("s3", i))));
    const copy = await crashCopy(dir);
    const file = join(copy, "history", "s3.jsonl");
    const spoiled = await spoilLine(file, 3, "{not json");

    const logger = recordingLogger();
    const c = await openStore(copy, { logger });
    // The tail alone doesn't cross it.
    expect((await c.listMessages("s3", 2)).map((m) => m.id)).toEqual(["s3-m148", "s3-m149"]);
    // Before the fix: StoreCorruptError (a bare 500 over HTTP), and every later append refused.
    const all = await c.listMessages("s3", 200);
    expect(all).toHaveLength(149);
    expect(all.map((m) => m.id)).not.toContain("s3-m3");
    const named = logger.warnings.filter((w) => w.msg.includes(file));
    expect(named).toHaveLength(1);
    expect(named[0]!.msg).toContain("line 4");
    const [aside] = await setAside(file);
    expect(await readFile(aside!)).toEqual(spoiled);
    expect(await lineCount(file)).toBe(149);

    await c.appendMessage(message("s3", 150));
    expect((await c.listMessages("s3", 200)).at(-1)!.id).toBe("s3-m150");
    expect(logger.warnings.filter((w) => w.msg.includes(file))).toHaveLength(1);
    expect(await readFile(aside!)).toEqual(spoiled);
    const reopened = await openStore(await crashCopy(copy));
    expect(await reopened.listMessages("s3", 200)).toHaveLength(150);
  });

  it("never appends after a bad line it has not read: the first append of a run checks the file", async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    for (let i = 0; i < 5; i++) await store.appendMessage(message("s1", i));
    const copy = await crashCopy(dir);
    const file = join(copy, "history", "s1.jsonl");
    const spoiled = await spoilLine(file, 1, '{"id":"half');
    const logger = recordingLogger();
    const c = await openStore(copy, { logger });
    await c.appendMessage(message("s1", 5));
    const [aside] = await setAside(file);
    // Before the fix the new message went after the bad line, into the corrupt file.
    expect(await readFile(aside!)).toEqual(spoiled);
    expect((await c.listMessages("s1", 10)).map((m) => m.id)).toEqual(["s1-m0", "s1-m2", "s1-m3", "s1-m4", "s1-m5"]);
    expect(logger.warnings.find((w) => w.msg.includes(file))?.msg).toContain("line 2");
  });

  it("reading backwards skips a bad line near the end and keeps the torn-last-line handling", async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    for (let i = 0; i < 4; i++) await store.appendMessage(message("s1", i));
    const copy = await crashCopy(dir);
    const file = join(copy, "history", "s1.jsonl");
    await spoilLine(file, 2, "42");
    await writeFile(file, `${await readFile(file, "utf8")}{"id":"s1-m9","sess`);
    const logger = recordingLogger();
    const c = await openStore(copy, { logger });
    expect((await c.listMessages("s1", 2)).map((m) => m.id)).toEqual(["s1-m1", "s1-m3"]);
    expect(logger.warnings.some((w) => /torn/.test(w.msg))).toBe(true);
    expect(logger.warnings.some((w) => w.msg.includes(file) && w.msg.includes("line 3"))).toBe(true);
  });
});

describe("lowdb store: bad lines in feed files", () => {
  it("a read skips a bad line and names it once; the file is set aside; new events never follow the bad line", async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    await store.appendFeedEvents([0, 1, 2, 3].map((i) => ev("s1", i)));
    const copy = await crashCopy(dir);
    const file = join(copy, "feed", "s1.jsonl");
    const spoiled = await spoilLine(file, 1, '{"seq":2,"type":"mess');
    const logger = recordingLogger();
    const c = await openStore(copy, { logger });
    // Before the fix: StoreCorruptError, the session's replay broken.
    expect((await c.readFeed({ sessionId: "s1" })).map((e) => e.seq)).toEqual([1, 3, 4]);
    expect((await c.readFeed({ sessionId: "s1" }, { after: 3 })).map((e) => e.seq)).toEqual([4]);
    const [aside] = await setAside(file);
    expect(await readFile(aside!)).toEqual(spoiled);
    const [next] = await c.appendFeedEvents([ev("s1", 4)]);
    expect((await c.readFeed({ sessionId: "s1" })).map((e) => e.seq)).toEqual([1, 3, 4, next!.seq]);
    const named = logger.warnings.filter((w) => w.msg.includes(file));
    expect(named).toHaveLength(1);
    expect(named[0]!.msg).toContain("line 2");
    expect(await readFile(aside!)).toEqual(spoiled);
  });

  it("an append or a prune before any read sets the file aside first", async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    await store.appendFeedEvents([ev("old", 0), ev("old", 10), ev("old", 12), ev("new", 20)]);
    const copy = await crashCopy(dir);
    const oldFile = join(copy, "feed", "old.jsonl");
    const newFile = join(copy, "feed", "new.jsonl");
    const spoiledOld = await spoilLine(oldFile, 1, "garbage");
    const spoiledNew = await spoilLine(newFile, 0, "[]");
    const c = await openStore(copy);
    // The prune reads forwards; its rewrite must not drop the bad line silently.
    expect(await c.pruneFeed({ before: 1_700_000_000_011 })).toBe(1);
    expect(await readFile((await setAside(oldFile))[0]!)).toEqual(spoiledOld);
    await c.appendFeedEvents([ev("new", 30)]);
    expect(await readFile((await setAside(newFile))[0]!)).toEqual(spoiledNew);
    expect((await c.readFeed()).map((e) => [e.sessionId, e.at - 1_700_000_000_000])).toEqual([
      ["old", 12],
      ["new", 30],
    ]);
  });
});
