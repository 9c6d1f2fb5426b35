/**
 * The lowdb store's feed files across restarts and crashes (the contract suite covers the
 * behaviour shared with the memory store).
 */
import { appendFile, cp, mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLowdbStore } from "../../src/store/lowdb/index.ts";
import { RESERVE_BLOCK } from "../../src/store/lowdb/feed.ts";
import type { Store } from "../../src/store/port.ts";
import type { NewFeedRecord } from "../../src/store/records.ts";

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "chatflow-feed-"));
  dirs.push(dir);
  return dir;
}

async function openStore(dir: string, warnings: string[] = []): Promise<Store> {
  const store = createLowdbStore({ dir, logger: { warn: (_obj, msg) => void warnings.push(msg) } });
  await store.open();
  stores.push(store);
  return store;
}

/** The files as a killed process leaves them: a copy taken while the store is open. */
async function crashCopy(dir: string): Promise<string> {
  const copy = await tempDir();
  await cp(dir, copy, { recursive: true });
  return copy;
}

const ev = (sessionId: string, i: number): NewFeedRecord => ({ type: "message", sessionId, at: 1_700_000_000_000 + i, data: { text: `m${i}` } });

describe("lowdb feed files", () => {
  it("one file per session under feed/, created at the first event", async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    expect(await readdir(dir)).not.toContain("feed");
    await store.appendFeedEvents([ev("s1", 0), ev("s2", 1), ev("s1", 2)]);
    expect((await readdir(join(dir, "feed"))).sort()).toEqual(["s1.jsonl", "s2.jsonl"]);
    const lines = (await readFile(join(dir, "feed", "s1.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.seq)).toEqual([1, 3]);
    await expect(store.appendFeedEvents([ev("../x", 0)])).rejects.toThrow(/Invalid session id/);
  });

  it("a clean close and open continue the numbering without a gap", async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    await store.appendFeedEvents([ev("s1", 0), ev("s1", 1)]);
    await store.close();
    const again = await openStore(dir);
    expect((await again.appendFeedEvents([ev("s1", 2)]))[0]!.seq).toBe(3);
  });

  it("after a crash, numbering starts above every seq that can be on disk, across reservation blocks", async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    const n = RESERVE_BLOCK * 2 + 17;
    await Promise.all(Array.from({ length: n }, (_, i) => store.appendFeedEvents([ev(`s${i % 3}`, i)])));
    const copy = await crashCopy(dir);
    const reopened = await openStore(copy);
    const all = await reopened.readFeed({}, { limit: 1000 });
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(await reopened.readFeed({}, { after: n - 1 })).toHaveLength(1);
    const [next] = await reopened.appendFeedEvents([ev("s0", n)]);
    expect(next!.seq).toBeGreaterThan(n);
    // And again, crashing the reopened store: still above.
    const twice = await openStore(await crashCopy(copy));
    expect((await twice.appendFeedEvents([ev("s1", n + 1)]))[0]!.seq).toBeGreaterThan(next!.seq);
  });

  it("drops a torn last line left by a kill mid-write (bad lines in the middle: lowdb-bad-lines.test.ts)", async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    await store.appendFeedEvents([ev("s1", 0), ev("s1", 1)]);
    const copy = await crashCopy(dir);
    await appendFile(join(copy, "feed", "s1.jsonl"), '{"seq":3,"type":"mess');
    const warnings: string[] = [];
    const a = await openStore(copy, warnings);
    expect((await a.readFeed({ sessionId: "s1" })).map((e) => e.seq)).toEqual([1, 2]);
    const [next] = await a.appendFeedEvents([ev("s1", 2)]);
    expect(warnings.some((w) => /torn/.test(w))).toBe(true);
    const b = await openStore(await crashCopy(copy));
    expect((await b.readFeed({ sessionId: "s1" })).map((e) => e.seq)).toEqual([1, 2, next!.seq]);

  });

  it("pruning rewrites only the files with old events, and survives a restart", async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    await store.appendFeedEvents([ev("old", 0), ev("old", 10), ev("new", 20)]);
    expect(await store.pruneFeed({ before: 1_700_000_000_005 })).toBe(1);
    expect(await store.pruneFeed({ before: 1_700_000_000_015 })).toBe(1);
    expect((await readdir(join(dir, "feed"))).sort()).toEqual(["new.jsonl"]);
    await store.appendFeedEvents([ev("old", 30)]);
    await store.close();
    const again = await openStore(dir);
    expect((await again.readFeed()).map((e) => [e.sessionId, e.seq])).toEqual([
      ["new", 3],
      ["old", 4],
    ]);
  });
});
