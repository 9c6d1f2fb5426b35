/**
 * The feed part of the Store contract (appendFeedEvents, readFeed, pruneFeed, and deleteTasks
 * taking the tasks' events along): run by storeContract for every store.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../../src/store/port.ts";
import type { FeedRecord, NewFeedRecord } from "../../src/store/records.ts";
import { task, type StoreHarness } from "./contract.ts";

const T0 = 1_700_000_000_000;

function ev(sessionId: string, i: number, over: Partial<NewFeedRecord> = {}): NewFeedRecord {
  return { type: "progress", sessionId, taskId: `${sessionId}-t`, at: T0 + i, data: { percent: i, step: `step ${i} ✓`, nested: { list: [i] } }, ...over };
}

const seqs = (events: FeedRecord[]) => events.map((e) => e.seq);

export function feedContract(name: string, make: () => Promise<StoreHarness>): void {
  describe(`Store contract: ${name}: feed`, () => {
    let h: StoreHarness;
    let store: Store;

    beforeEach(async () => {
      h = await make();
      store = h.store;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    async function reopen(): Promise<void> {
      if (!h.reopen) return;
      await store.close();
      store = await h.reopen();
    }

    it("numbers events in call order, strictly increasing, and reads them back by filter", async () => {
      // Not awaited one by one: the seqs still follow the order of the calls.
      const calls = [ev("s1", 0), ev("s2", 1), ev("s1", 2, { taskId: "other" }), ev("s3", 3, { type: "message", taskId: undefined })].map((e) => store.appendFeedEvents([e]));
      const stored = (await Promise.all(calls)).flat();
      const n = seqs(stored);
      expect(n.every((s, i) => i === 0 || s > n[i - 1]!)).toBe(true);
      expect(stored[0]).toEqual({ ...ev("s1", 0), seq: n[0] });
      expect(stored[3]).not.toHaveProperty("taskId");
      const batch = await store.appendFeedEvents([ev("s2", 4), ev("s2", 5)]);
      expect(batch[0]!.seq).toBeGreaterThan(n[3]!);
      expect(batch[1]!.seq).toBeGreaterThan(batch[0]!.seq);
      expect(await store.appendFeedEvents([])).toEqual([]);

      const check = async () => {
        expect(await store.readFeed()).toEqual([...stored, ...batch]);
        expect(await store.readFeed({ sessionId: "s1" })).toEqual([stored[0], stored[2]]);
        expect(await store.readFeed({ sessionIds: ["s1", "s3"] })).toEqual([stored[0], stored[2], stored[3]]);
        expect(await store.readFeed({ sessionId: "s2", sessionIds: ["s3"] })).toEqual([stored[1], stored[3], ...batch]);
        expect(await store.readFeed({ sessionIds: [] })).toEqual([]);
        expect(await store.readFeed({ taskId: "other" })).toEqual([stored[2]]);
        expect(await store.readFeed({ sessionId: "s1", taskId: "s1-t" })).toEqual([stored[0]]);
        expect(await store.readFeed({ sessionId: "s9" })).toEqual([]);
        expect(await store.readFeed({}, { after: stored[1]!.seq })).toEqual([stored[2], stored[3], ...batch]);
        expect(await store.readFeed({ sessionId: "s2" }, { after: stored[1]!.seq, limit: 1 })).toEqual([batch[0]]);
        expect(await store.readFeed({}, { limit: 0 })).toEqual([]);
        expect(await store.readFeed({}, { after: batch[1]!.seq })).toEqual([]);
      };
      await check();
      await reopen();
      await check();
      // Numbering goes on above everything stored before the restart.
      const [next] = await store.appendFeedEvents([ev("s1", 6)]);
      expect(next!.seq).toBeGreaterThan(batch[1]!.seq);
      expect(seqs(await store.readFeed({ sessionId: "s1" }))).toEqual([stored[0]!.seq, stored[2]!.seq, next!.seq]);
    });

    it("pages: default 100, at most 1000, oldest first, nothing skipped or repeated", async () => {
      await Promise.all(Array.from({ length: 1200 }, (_, i) => store.appendFeedEvents([ev(`s${i % 7}`, i)])));
      expect(await store.readFeed()).toHaveLength(100);
      expect(await store.readFeed({}, { limit: 5000 })).toHaveLength(1000);
      const all: FeedRecord[] = [];
      let after = 0;
      for (;;) {
        const page = await store.readFeed({ sessionIds: ["s1", "s2"] }, { after, limit: 37 });
        all.push(...page);
        if (page.length < 37) break;
        after = page.at(-1)!.seq;
      }
      expect(all.map((e) => (e.data as { percent: number }).percent)).toEqual(Array.from({ length: 1200 }, (_, i) => i).filter((i) => i % 7 === 1 || i % 7 === 2));
      expect(new Set(seqs(all)).size).toBe(all.length);
    });

    it("reads are prefix-consistent: paging on by seq while writes go on misses nothing", async () => {
      const writes: Promise<unknown>[] = [];
      const seen: FeedRecord[] = [];
      let after = 0;
      for (let round = 0; round < 40; round++) {
        for (let i = 0; i < 10; i++) writes.push(store.appendFeedEvents([ev(`s${(round + i) % 5}`, round * 10 + i)]));
        const page = await store.readFeed({}, { after, limit: 1000 });
        seen.push(...page);
        if (page.length > 0) after = page.at(-1)!.seq;
      }
      await Promise.all(writes);
      seen.push(...(await store.readFeed({}, { after, limit: 1000 })));
      const all = await store.readFeed({}, { limit: 1000 });
      expect(all).toHaveLength(400);
      expect(seen).toEqual(all);
    });

    it("deleteTasks removes the tasks' events; pruneFeed removes events older than a time", async () => {
      await store.createTask(task("gone", { sessionId: "s1" }));
      await store.createTask(task("kept", { sessionId: "s1" }));
      await store.appendFeedEvents([ev("s1", 0, { taskId: "gone" }), ev("s1", 1, { taskId: "kept" }), ev("s1", 2, { type: "message", taskId: undefined }), ev("s2", 3, { taskId: "s2-task" })]);
      await store.appendFeedEvents([ev("s1", 4, { taskId: "gone" })]);
      await store.deleteTasks(["gone"]);
      const left = await store.readFeed();
      expect(left.map((e) => e.at - T0)).toEqual([1, 2, 3]);
      expect(await store.pruneFeed({ before: T0 + 2 })).toBe(1);
      expect((await store.readFeed()).map((e) => e.at - T0)).toEqual([2, 3]);
      expect(await store.pruneFeed({ before: T0 + 2 })).toBe(0);
      await reopen();
      expect((await store.readFeed()).map((e) => e.at - T0)).toEqual([2, 3]);
      expect(await store.pruneFeed({ before: T0 + 100 })).toBe(2);
      expect(await store.readFeed()).toEqual([]);
      await store.appendFeedEvents([ev("s1", 5)]);
      expect((await store.readFeed()).map((e) => e.at - T0)).toEqual([5]);
    });

    it("never aliases events passed in; what it returns is a copy or frozen (events never change)", async () => {
      const e = ev("s1", 0);
      const [stored] = await store.appendFeedEvents([e]);
      (e.data as { percent: number }).percent = 99;
      const tryChange = (record: { data: unknown }, value: number) => {
        try {
          (record.data as { percent: number }).percent = value;
        } catch {
          expect(Object.isFrozen(record.data)).toBe(true);
        }
      };
      tryChange(stored!, 98);
      const [read] = await store.readFeed();
      expect((read!.data as { percent: number }).percent).toBe(0);
      tryChange(read!, 97);
      expect(((await store.readFeed())[0]!.data as { percent: number }).percent).toBe(0);
    });
  });
}
