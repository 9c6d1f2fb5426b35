/**
 * Races between two store objects on the same data (two processes sharing one database):
 * run by postgres-race.test.ts. Each check starts the competing calls together and checks
 * that the store let exactly one win, or numbered and handed out everything exactly once.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ChatflowError } from "../../src/errors.ts";
import type { TaskClaims } from "../../src/store/coordination.ts";
import type { Store } from "../../src/store/port.ts";
import type { FeedRecord, NewFeedRecord } from "../../src/store/records.ts";
import { session, T0, task } from "./contract.ts";

type SharedStore = Store & TaskClaims;

export interface RaceHarness {
  /** Two opened stores on the same, empty data. */
  a: SharedStore;
  b: SharedStore;
  /**
   * Appends one event the way a store does, but holding its transaction open `delayMs` after
   * taking its seq (a slow process): resolves with its seq once committed. Optional.
   */
  slowAppend?: (event: NewFeedRecord, delayMs: number) => Promise<number>;
  cleanup: () => Promise<void>;
}

const ev = (sessionId: string, i: number, by: string): NewFeedRecord => ({ type: "progress", sessionId, at: T0 + i, data: { i, by } });

/** Reads the whole feed by pages of `limit`. */
async function readAll(store: Store, limit = 1000): Promise<FeedRecord[]> {
  const out: FeedRecord[] = [];
  let after = 0;
  for (;;) {
    const page = await store.readFeed({}, { after, limit });
    out.push(...page);
    if (page.length < limit) return out;
    after = page.at(-1)!.seq;
  }
}

function expectIncreasing(events: FeedRecord[]): void {
  for (let i = 1; i < events.length; i++) expect(events[i]!.seq).toBeGreaterThan(events[i - 1]!.seq);
}

export function raceContract(name: string, make: () => Promise<RaceHarness>): void {
  describe(`Store races between two processes: ${name}`, () => {
    let h: RaceHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it("same-key createSession: exactly one wins, the other is a conflict", async () => {
      for (let round = 0; round < 15; round++) {
        const key = `web:race${round}`;
        const results = await Promise.allSettled([h.a.createSession(session(`a${round}`, { key })), h.b.createSession(session(`b${round}`, { key }))]);
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        const lost = results.find((r): r is PromiseRejectedResult => r.status === "rejected")!;
        expect((lost.reason as ChatflowError).code).toBe("conflict");
        const open = (await h.b.findOpenSession(key))!;
        expect(await h.a.getSession(open.id === `a${round}` ? `b${round}` : `a${round}`)).toBeUndefined();
      }
    });

    it("claimEvent: exactly one claim is true", async () => {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => Promise.all([h.a.claimEvent(`ev${i}`, Date.now() + 60_000), h.b.claimEvent(`ev${i}`, Date.now() + 60_000)])));
      for (const pair of results) expect(pair.sort()).toEqual([false, true]);
      expect(await h.a.hasEvent("ev3")).toBe(true);
    });

    it("updateTask with ifRev: exactly one wins", async () => {
      for (let round = 0; round < 10; round++) await h.a.createTask(task(`t${round}`));
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, round) => Promise.all([h.a.updateTask(`t${round}`, { percent: 1, step: "a" }, { ifRev: 1 }), h.b.updateTask(`t${round}`, { percent: 2, step: "b" }, { ifRev: 1 })])),
      );
      for (const [round, pair] of results.entries()) {
        const won = pair.filter((r) => r !== undefined);
        expect(won).toHaveLength(1);
        expect(await h.b.getTask(`t${round}`)).toEqual(won[0]);
        expect(won[0]!.rev).toBe(2);
      }
    });

    it("claimTasks from both: no task claimed twice, never two tasks of one session running", async () => {
      const sessions = 8;
      const perSession = 4;
      for (let s = 0; s < sessions; s++) for (let i = 0; i < perSession; i++) await h.a.createTask(task(`s${s}-t${i}`, { sessionId: `s${s}`, createdAt: T0 + i * 100 + s }));
      const claimedBy = new Map<string, string>();
      const runningIn = new Map<string, string>();
      const violations: string[] = [];
      let done = false;
      // Watches the data itself: no snapshot may show two running tasks of one session.
      const watcher = (async () => {
        while (!done) {
          const running = (await h.b.listTasks({ status: "running" }, { limit: 1000 })).items;
          const bySession = new Map<string, number>();
          for (const t of running) bySession.set(t.sessionId, (bySession.get(t.sessionId) ?? 0) + 1);
          for (const [s, n] of bySession) if (n > 1) violations.push(`${n} running in ${s}`);
        }
      })();
      const worker = async (store: SharedStore, owner: string) => {
        let idle = 0;
        while (claimedBy.size < sessions * perSession && idle < 200) {
          const claimed = await store.claimTasks(owner, 30_000, 3);
          if (claimed.length === 0) {
            idle++;
            await new Promise((resolve) => setTimeout(resolve, 2));
            continue;
          }
          idle = 0;
          for (const t of claimed) {
            if (claimedBy.has(t.id)) violations.push(`${t.id} claimed by ${claimedBy.get(t.id)} and ${owner}`);
            claimedBy.set(t.id, owner);
            if (runningIn.has(t.sessionId)) violations.push(`${t.id} claimed while ${runningIn.get(t.sessionId)} runs`);
            runningIn.set(t.sessionId, t.id);
            expect(t).toMatchObject({ status: "running", attempts: 1, rev: 2, lease: { owner } });
          }
          await new Promise((resolve) => setTimeout(resolve, 3));
          for (const t of claimed) {
            // Out of the tracker before the update: a claim seen after it is legitimate.
            runningIn.delete(t.sessionId);
            const finished = await store.updateTask(t.id, { status: "completed", finishedAt: Date.now(), lease: undefined }, { leaseOwner: owner });
            expect(finished?.status).toBe("completed");
          }
        }
      };
      await Promise.all([worker(h.a, "proc-a"), worker(h.b, "proc-b")]);
      done = true;
      await watcher;
      expect(violations).toEqual([]);
      expect(claimedBy.size).toBe(sessions * perSession);
      const all = (await h.a.listTasks({}, { limit: 1000 })).items;
      expect(all.every((t) => t.status === "completed" && t.attempts === 1)).toBe(true);
      // Both processes got work.
      expect(new Set(claimedBy.values()).size).toBe(2);
    });

    it("claimTasks: a waiting task holds its session; an expired lease is taken over, and its old owner can no longer renew or update", async () => {
      await h.a.createTask(task("w1", { sessionId: "sw", status: "waiting", createdAt: T0 }));
      await h.a.createTask(task("w2", { sessionId: "sw", createdAt: T0 + 1 }));
      await h.a.createTask(task("x1", { sessionId: "sx", createdAt: T0 + 2 }));
      await h.a.createTask(task("x2", { sessionId: "sx", createdAt: T0 + 3 }));
      const first = await h.a.claimTasks("proc-a", 150, 10);
      expect(first.map((t) => t.id)).toEqual(["x1"]);
      const lease = first[0]!.lease!;
      const now = await h.a.dbNow();
      expect(Math.abs(now - Date.now())).toBeLessThan(5_000);
      expect(lease.until).toBeGreaterThan(now);
      expect(lease.until).toBeLessThanOrEqual(now + 150);
      expect(await h.b.claimTasks("proc-b", 30_000, 10)).toEqual([]);
      expect(await h.a.renewLease("x1", "proc-b", 150)).toBe(false);
      expect(await h.a.renewLease("x1", "proc-a", 150)).toBe(true);
      expect((await h.b.getTask("x1"))!.rev).toBe(2);
      // proc-a stops renewing: once the lease ran out on the database clock, proc-b takes x1 over (not x2).
      await vi.waitFor(async () => expect((await h.b.claimTasks("proc-b", 30_000, 10)).map((t) => t.id)).toEqual(["x1"]), { timeout: 5_000, interval: 50 });
      const taken = (await h.b.getTask("x1"))!;
      expect(taken).toMatchObject({ status: "running", attempts: 2, lease: { owner: "proc-b" }, startedAt: first[0]!.startedAt });
      expect(await h.a.renewLease("x1", "proc-a", 30_000)).toBe(false);
      expect(await h.a.updateTask("x1", { percent: 50 }, { leaseOwner: "proc-a" })).toBeUndefined();
      expect(await h.b.updateTask("x1", { percent: 50 }, { leaseOwner: "proc-b" })).toMatchObject({ percent: 50 });
      // The waiting task answered: queued again, it runs before the task queued behind it.
      await h.a.updateTask("w1", { status: "queued" });
      expect((await h.a.claimTasks("proc-a", 30_000, 10)).map((t) => t.id)).toEqual(["w1"]);
      expect(await h.b.claimTasks("proc-b", 30_000, 10)).toEqual([]);
    });

    it("appendFeedEvents from both at once: every event exactly once, in increasing seq, each store's in call order", async () => {
      const calls: Array<Promise<FeedRecord[]>> = [];
      for (let i = 0; i < 150; i++) {
        calls.push(h.a.appendFeedEvents([ev(`s${i % 3}`, i, "a")]));
        calls.push(h.b.appendFeedEvents(i % 5 === 0 ? [ev("s9", i, "b"), ev("s9", i, "b2")] : [ev(`s${i % 4}`, i, "b")]));
      }
      const stored = (await Promise.all(calls)).flat();
      const all = await readAll(h.a, 97);
      expect(all).toHaveLength(stored.length);
      expectIncreasing(all);
      expect(new Set(all.map((e) => e.seq))).toEqual(new Set(stored.map((e) => e.seq)));
      for (const by of ["a", "b"]) {
        const mine = all.filter((e) => (e.data as { by: string }).by === by).map((e) => (e.data as { i: number }).i);
        expect(mine).toEqual([...mine].sort((x, y) => x - y));
      }
    });

    it("a reader paging with `after` while both append, one of them slowly, skips nothing", async () => {
      const seen: FeedRecord[] = [];
      let after = 0;
      let writing = true;
      const reader = (async () => {
        while (writing) {
          const page = await h.b.readFeed({}, { after, limit: 50 });
          seen.push(...page);
          if (page.length > 0) after = page.at(-1)!.seq;
        }
      })();
      const writes: Array<Promise<unknown>> = [];
      for (let round = 0; round < 6; round++) {
        // A slow process takes its seq first and commits late; the others number after it.
        if (h.slowAppend) writes.push(h.slowAppend(ev("slow", round, "slow"), 150));
        await new Promise((resolve) => setTimeout(resolve, 10));
        for (let i = 0; i < 10; i++) {
          writes.push(h.a.appendFeedEvents([ev("sa", round * 10 + i, "a")]));
          writes.push(h.b.appendFeedEvents([ev("sb", round * 10 + i, "b")]));
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await Promise.all(writes);
      writing = false;
      await reader;
      seen.push(...(await readAll(h.b).then((all) => all.filter((e) => e.seq > after))));
      const all = await readAll(h.a);
      expect(all).toHaveLength(120 + (h.slowAppend ? 6 : 0));
      expect(seen.map((e) => e.seq)).toEqual(all.map((e) => e.seq));
    });

    it("watchFeed on one store fires for events appended through the other", async () => {
      const watchA = h.a.watchFeed;
      if (!watchA) return;
      const heard: number[] = [];
      const stop = watchA.call(h.a, (seq) => heard.push(seq));
      try {
        const [stored] = await h.b.appendFeedEvents([ev("s1", 1, "b")]);
        await vi.waitFor(() => expect(heard.some((seq) => seq >= stored!.seq)).toBe(true), { timeout: 5_000, interval: 20 });
        const more = await h.b.appendFeedEvents([ev("s1", 2, "b"), ev("s1", 3, "b")]);
        await vi.waitFor(() => expect(heard).toContain(more[1]!.seq), { timeout: 5_000, interval: 20 });
      } finally {
        stop();
      }
      const count = heard.length;
      await h.b.appendFeedEvents([ev("s1", 4, "b")]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(heard).toHaveLength(count);
    });
  });
}
