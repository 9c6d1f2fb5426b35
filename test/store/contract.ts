/**
 * The Store contract: every store implementation runs this suite (see memory.test.ts and
 * lowdb.test.ts). It checks the behaviour documented in src/store/port.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChatflowError } from "../../src/errors.ts";
import type { Message, Session } from "../../src/model.ts";
import type { Store } from "../../src/store/port.ts";
import type { Task } from "../../src/store/records.ts";
import { depthContract } from "./depth-contract.ts";
import { feedContract } from "./feed-contract.ts";

export interface StoreHarness {
  /** An opened store on fresh, empty data. */
  store: Store;
  /**
   * Called after the suite closed `store`: returns a new, opened store on the same data.
   * Given only by stores that persist; enables the survives-close-and-reopen checks.
   */
  reopen?: () => Promise<Store>;
  /** Closes every store this harness opened and removes its data. */
  cleanup: () => Promise<void>;
}

export const T0 = 1_700_000_000_000;

export function session(id: string, over: Partial<Session> = {}): Session {
  return {
    id,
    key: `console:${id}`,
    platform: "console",
    channel: id,
    owner: "alice",
    state: "idle",
    createdAt: T0,
    updatedAt: T0,
    lastActiveAt: T0,
    ...over,
  };
}

export function task(id: string, over: Partial<Task> = {}): Task {
  return {
    id,
    rev: 1,
    sessionId: "s1",
    address: { platform: "console", channel: "c1", user: "alice" },
    owner: "alice",
    workflow: "demo",
    input: { topic: "x", nested: { list: [1, 2, 3] } },
    status: "queued",
    percent: 0,
    createdAt: T0,
    updatedAt: T0,
    attempts: 0,
    elapsedMs: 0,
    ...over,
  };
}

export function message(sessionId: string, i: number, over: Partial<Message> = {}): Message {
  return { id: `${sessionId}-m${i}`, sessionId, role: "user", text: `message ${i} ✓ ünïcode`, source: "user", user: "alice", at: T0 + i, ...over };
}

/** Walks every page and returns all items; fails on a repeated cursor. */
async function allPages<T>(list: (cursor?: string) => Promise<{ items: T[]; nextCursor?: string }>): Promise<T[][]> {
  const pages: T[][] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    pages.push(page.items);
    cursor = page.nextCursor;
    if (cursor !== undefined) {
      expect(seen.has(cursor)).toBe(false);
      seen.add(cursor);
    }
  } while (cursor !== undefined && pages.length < 1000);
  return pages;
}

const ids = (items: Array<{ id: string }>) => items.map((i) => i.id);

export function storeContract(name: string, make: () => Promise<StoreHarness>): void {
  feedContract(name, make);
  depthContract(name, make);
  describe(`Store contract: ${name}`, () => {
    let h: StoreHarness;
    let store: Store;

    beforeEach(async () => {
      h = await make();
      store = h.store;
    });
    afterEach(async () => {
      vi.useRealTimers();
      await h.cleanup();
    });

    /** Closes and reopens when the store persists; a no-op otherwise. */
    async function reopen(): Promise<void> {
      if (!h.reopen) return;
      await store.close();
      store = await h.reopen();
    }

    describe("sessions", () => {
      it("creates, gets, updates; unknown ids give undefined; duplicates are refused", async () => {
        await store.createSession(session("s1", { topic: "first" }));
        expect(await store.getSession("s1")).toEqual(session("s1", { topic: "first" }));
        expect(await store.getSession("nope")).toBeUndefined();
        await expect(store.createSession(session("s1"))).rejects.toThrow(/already exists/);

        const updated = await store.updateSession("s1", { state: "running", updatedAt: T0 + 5, topic: undefined });
        expect(updated).toEqual(session("s1", { state: "running", updatedAt: T0 + 5 }));
        expect(updated).not.toHaveProperty("topic");
        expect(await store.getSession("s1")).toEqual(updated);
        expect(await store.updateSession("nope", { state: "closed" })).toBeUndefined();
        expect(await store.getSession("nope")).toBeUndefined();
        await reopen();
        expect(await store.getSession("s1")).toEqual(updated);
      });

      it("findOpenSession returns the open session of a key and ignores closed ones", async () => {
        await store.createSession(session("old", { key: "slack:C1", state: "closed", closedAt: T0 }));
        expect(await store.findOpenSession("slack:C1")).toBeUndefined();
        await store.createSession(session("cur", { key: "slack:C1", state: "waiting" }));
        await store.createSession(session("other", { key: "slack:C2" }));
        expect((await store.findOpenSession("slack:C1"))?.id).toBe("cur");
        await store.updateSession("cur", { state: "closed", closedAt: T0 + 1 });
        expect(await store.findOpenSession("slack:C1")).toBeUndefined();
        await store.createSession(session("next", { key: "slack:C1", state: "idle" }));
        await reopen();
        expect((await store.findOpenSession("slack:C1"))?.id).toBe("next");
        expect((await store.findOpenSession("slack:C2"))?.id).toBe("other");
        expect(await store.findOpenSession("slack:C3")).toBeUndefined();
      });

      it("createSession refuses a second open session for a key (code conflict), storing nothing; closed ones don't count", async () => {
        await store.createSession(session("old", { key: "web:u1", state: "closed", closedAt: T0 }));
        await store.createSession(session("cur", { key: "web:u1", state: "running" }));
        const refused = await store.createSession(session("dup", { key: "web:u1", state: "idle" })).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(refused).toBeInstanceOf(ChatflowError);
        expect((refused as ChatflowError).code).toBe("conflict");
        expect((refused as Error).message).toMatch(/already has an open session \(cur\)/);
        expect(await store.getSession("dup")).toBeUndefined();
        // Concurrent creates for one key: exactly one is stored.
        const both = await Promise.allSettled([store.createSession(session("a1", { key: "web:u2" })), store.createSession(session("a2", { key: "web:u2" }))]);
        expect(both.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        expect(both.filter((r) => r.status === "rejected").map((r) => ((r as PromiseRejectedResult).reason as ChatflowError).code)).toEqual(["conflict"]);
        // A closed session may join an open one's key; once the open one closes, a new one may open.
        await store.createSession(session("gone", { key: "web:u1", state: "closed", closedAt: T0 + 1 }));
        await store.updateSession("cur", { state: "closed", closedAt: T0 + 2 });
        await store.createSession(session("dup", { key: "web:u1", state: "idle" }));
        await reopen();
        expect((await store.findOpenSession("web:u1"))?.id).toBe("dup");
        await expect(store.createSession(session("dup2", { key: "web:u1" }))).rejects.toMatchObject({ code: "conflict" });
        expect((await store.listSessions({ state: ["idle", "running", "waiting"] })).items.map((s) => s.key).sort()).toEqual(["web:u1", "web:u2"]);
      });

      it("listSessions filters by platform, user, state (one or many) and activity time", async () => {
        await store.createSession(session("a", { platform: "slack", owner: "u1", state: "idle", lastActiveAt: T0 + 10 }));
        await store.createSession(session("b", { platform: "slack", owner: "u2", state: "running", lastActiveAt: T0 + 20 }));
        await store.createSession(session("c", { platform: "telegram", owner: "u1", state: "waiting", lastActiveAt: T0 + 30 }));
        await store.createSession(session("d", { platform: "discord", owner: "u1", state: "closed", lastActiveAt: T0 + 40 }));
        const list = async (f: Parameters<Store["listSessions"]>[0]) => ids((await store.listSessions(f)).items);
        expect(await list(undefined)).toEqual(["d", "c", "b", "a"]);
        expect(await list({})).toEqual(["d", "c", "b", "a"]);
        expect(await list({ platform: "slack" })).toEqual(["b", "a"]);
        expect(await list({ user: "u1" })).toEqual(["d", "c", "a"]);
        expect(await list({ state: "waiting" })).toEqual(["c"]);
        expect(await list({ state: ["idle", "running"] })).toEqual(["b", "a"]);
        expect(await list({ state: [] })).toEqual([]);
        expect(await list({ activeAfter: T0 + 20 })).toEqual(["d", "c", "b"]);
        expect(await list({ activeBefore: T0 + 30 })).toEqual(["b", "a"]);
        expect(await list({ activeAfter: T0 + 20, activeBefore: T0 + 40, user: "u1" })).toEqual(["c"]);
        expect(await list({ platform: "nowhere" })).toEqual([]);
        // Activity order follows updates.
        await store.updateSession("a", { lastActiveAt: T0 + 50 });
        expect(await list({})).toEqual(["a", "d", "c", "b"]);
      });

      it("pages with cursors: newest activity first, no duplicates, no misses, stable while adding", async () => {
        const created: Session[] = [];
        for (let i = 0; i < 23; i++) {
          // Ties in lastActiveAt (every 3 share one) must still page without loss.
          const s = session(`s${String(i).padStart(2, "0")}`, { lastActiveAt: T0 + Math.floor(i / 3), state: i % 4 === 0 ? "closed" : "idle" });
          created.push(s);
          await store.createSession(s);
        }
        const expected = [...created].sort((x, y) => y.lastActiveAt - x.lastActiveAt || (x.id < y.id ? 1 : -1)).map((s) => s.id);
        const pages = await allPages((cursor) => store.listSessions({}, { limit: 5, ...(cursor ? { cursor } : {}) }));
        expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
        expect(pages.flat().map((s) => s.id)).toEqual(expected);

        const open = await allPages((cursor) => store.listSessions({ state: "idle" }, { limit: 4, ...(cursor ? { cursor } : {}) }));
        expect(open.flat().map((s) => s.id)).toEqual(expected.filter((id) => created.find((s) => s.id === id)!.state === "idle"));

        // A newer session added between pages doesn't shift the next page.
        const first = await store.listSessions({}, { limit: 10 });
        await store.createSession(session("zz-new", { lastActiveAt: T0 + 1000 }));
        const second = await store.listSessions({}, { limit: 100, cursor: first.nextCursor! });
        expect([...ids(first.items), ...ids(second.items)]).toEqual(expected);
        expect(second.nextCursor).toBeUndefined();

        // Default page size is 50.
        for (let i = 0; i < 40; i++) await store.createSession(session(`bulk${i}`, { lastActiveAt: T0 - i }));
        const page = await store.listSessions();
        expect(page.items).toHaveLength(50);
        expect(page.nextCursor).toBeDefined();
        await expect(store.listSessions({}, { cursor: "not a cursor" })).rejects.toThrow(/cursor/i);
      });
    });

    describe("messages", () => {
      it("lists the last N of one session, oldest first", async () => {
        for (let i = 0; i < 10; i++) {
          await store.appendMessage(message("s1", i));
          await store.appendMessage(message("s2", i, { role: "assistant", source: "workflow", links: [{ url: "https://e.x/" + i }] }));
        }
        expect(ids(await store.listMessages("s1", 3))).toEqual(["s1-m7", "s1-m8", "s1-m9"]);
        expect(await store.listMessages("s2", 1)).toEqual([message("s2", 9, { role: "assistant", source: "workflow", links: [{ url: "https://e.x/9" }] })]);
        expect(ids(await store.listMessages("s1", 50))).toEqual(Array.from({ length: 10 }, (_, i) => `s1-m${i}`));
        expect(await store.listMessages("s1", 0)).toEqual([]);
        expect(await store.listMessages("unknown", 5)).toEqual([]);
        await reopen();
        expect(ids(await store.listMessages("s1", 3))).toEqual(["s1-m7", "s1-m8", "s1-m9"]);
        await store.appendMessage(message("s1", 10));
        expect(ids(await store.listMessages("s1", 2))).toEqual(["s1-m9", "s1-m10"]);
      });

      it("handles long histories and appends that are not awaited one by one", async () => {
        await Promise.all(Array.from({ length: 1500 }, (_, i) => store.appendMessage(message("long", i))));
        const last = await store.listMessages("long", 50);
        expect(ids(last)).toEqual(Array.from({ length: 50 }, (_, i) => `long-m${1450 + i}`));
        // Reading more than any cache holds, and appending while reading.
        const [big] = await Promise.all([store.listMessages("long", 1200), store.appendMessage(message("long", 1500))]);
        // Concurrent with the append: either order is fine, but the slice must be contiguous.
        expect(big).toHaveLength(1200);
        const start = Number(big[0]!.id.slice("long-m".length));
        expect([300, 301]).toContain(start);
        expect(ids(big)).toEqual(Array.from({ length: 1200 }, (_, i) => `long-m${start + i}`));
        expect(ids(await store.listMessages("long", 2))).toEqual(["long-m1499", "long-m1500"]);
        expect(await store.listMessages("long", 5000)).toHaveLength(1501);
        await reopen();
        const all = await store.listMessages("long", 5000);
        expect(ids(all)).toEqual(Array.from({ length: 1501 }, (_, i) => `long-m${i}`));
      });
    });

    describe("tasks", () => {
      it("creates and gets; update bumps rev; ifRev makes it conditional", async () => {
        await store.createTask(task("t1"));
        expect(await store.getTask("t1")).toEqual(task("t1"));
        expect(await store.getTask("nope")).toBeUndefined();
        await expect(store.createTask(task("t1"))).rejects.toThrow(/already exists/);

        const running = await store.updateTask("t1", { status: "running", startedAt: T0 + 1, waiting: { kind: "ask", key: "ask#0", token: "tok", question: "Which?", choices: ["a", "b"], askedAt: T0 } });
        expect(running).toMatchObject({ id: "t1", rev: 2, status: "running", startedAt: T0 + 1 });
        expect(await store.getTask("t1")).toEqual(running);

        const answered = await store.updateTask("t1", { waiting: undefined, answer: { key: "ask#0", value: "a" } }, { ifRev: 2 });
        expect(answered?.rev).toBe(3);
        expect(answered).not.toHaveProperty("waiting");
        expect(answered?.answer).toEqual({ key: "ask#0", value: "a" });

        // A stale rev changes nothing.
        expect(await store.updateTask("t1", { status: "failed" }, { ifRev: 2 })).toBeUndefined();
        expect(await store.getTask("t1")).toEqual(answered);
        // id and rev can't be patched.
        const sneaky = { status: "completed", id: "other", rev: 99 } as Partial<Task>;
        expect(await store.updateTask("t1", sneaky)).toMatchObject({ id: "t1", rev: 4, status: "completed" });
        expect(await store.getTask("other")).toBeUndefined();
        expect(await store.updateTask("nope", { status: "running" })).toBeUndefined();
        expect(await store.updateTask("nope", { status: "running" }, { ifRev: 1 })).toBeUndefined();
        await reopen();
        expect((await store.getTask("t1"))?.rev).toBe(4);
      });

      it("updateTask with leaseOwner applies only while that owner's lease is unexpired", async () => {
        const now = Date.now();
        await store.createTask(task("held", { status: "running", lease: { owner: "p1", until: now + 60_000 } }));
        await store.createTask(task("lapsed", { status: "running", lease: { owner: "p1", until: now - 1_000 } }));
        await store.createTask(task("free"));
        expect(await store.updateTask("held", { percent: 10 }, { leaseOwner: "p2" })).toBeUndefined();
        expect(await store.updateTask("lapsed", { percent: 10 }, { leaseOwner: "p1" })).toBeUndefined();
        expect(await store.updateTask("free", { percent: 10 }, { leaseOwner: "p1" })).toBeUndefined();
        expect(await store.updateTask("missing", { percent: 10 }, { leaseOwner: "p1" })).toBeUndefined();
        expect(await store.updateTask("held", { percent: 10 }, { leaseOwner: "p1" })).toMatchObject({ rev: 2, percent: 10 });
        // With ifRev too: both must hold.
        expect(await store.updateTask("held", { percent: 20 }, { leaseOwner: "p1", ifRev: 1 })).toBeUndefined();
        expect(await store.updateTask("held", { percent: 20, lease: undefined }, { leaseOwner: "p1", ifRev: 2 })).toMatchObject({ rev: 3, percent: 20 });
        // The lease went with that update: the owner holds it no more.
        expect(await store.updateTask("held", { percent: 30 }, { leaseOwner: "p1" })).toBeUndefined();
        await reopen();
        expect(await store.getTask("held")).not.toHaveProperty("lease");
        expect((await store.getTask("lapsed"))!.rev).toBe(1);
        expect((await store.getTask("free"))!.rev).toBe(1);
      });

      it("concurrent conditional updates: exactly one wins; unconditional ones all apply", async () => {
        await store.createTask(task("t1"));
        const results = await Promise.all([1, 2, 3].map((i) => store.updateTask("t1", { percent: i }, { ifRev: 1 })));
        expect(results.filter((r) => r !== undefined)).toHaveLength(1);
        await Promise.all(Array.from({ length: 100 }, (_, i) => store.updateTask("t1", { percent: i })));
        await reopen();
        expect(await store.getTask("t1")).toMatchObject({ rev: 102, percent: 99 });
      });

      it("listTasks filters by status, session, owner, finish time; newest first; pages", async () => {
        await store.createTask(task("a", { sessionId: "s1", owner: "u1", status: "running", createdAt: T0 + 1 }));
        await store.createTask(task("b", { sessionId: "s1", owner: "u2", status: "completed", createdAt: T0 + 2, finishedAt: T0 + 10 }));
        await store.createTask(task("c", { sessionId: "s2", owner: "u1", status: "failed", createdAt: T0 + 3, finishedAt: T0 + 20 }));
        await store.createTask(task("d", { sessionId: "s2", owner: "u1", status: "waiting", createdAt: T0 + 4 }));
        const list = async (f: Parameters<Store["listTasks"]>[0]) => ids((await store.listTasks(f)).items);
        expect(await list(undefined)).toEqual(["d", "c", "b", "a"]);
        expect(await list({ status: "running" })).toEqual(["a"]);
        expect(await list({ status: ["running", "waiting", "queued"] })).toEqual(["d", "a"]);
        expect(await list({ sessionId: "s1" })).toEqual(["b", "a"]);
        expect(await list({ sessionId: "s2", status: "waiting" })).toEqual(["d"]);
        expect(await list({ owner: "u1" })).toEqual(["d", "c", "a"]);
        expect(await list({ finishedBefore: T0 + 15 })).toEqual(["b"]);
        expect(await list({ finishedBefore: T0 + 21 })).toEqual(["c", "b"]);
        expect(await list({ finishedAfter: T0 + 10 })).toEqual(["c", "b"]);
        expect(await list({ finishedAfter: T0 + 11 })).toEqual(["c"]);
        expect(await list({ finishedAfter: T0 + 5, finishedBefore: T0 + 15 })).toEqual(["b"]);
        // Last changed: `updatedAt` as written (a waiting task parked recently, for the question sweep).
        await store.updateTask("d", { updatedAt: T0 + 500 });
        expect(await list({ status: "waiting", updatedAfter: T0 + 500 })).toEqual(["d"]);
        expect(await list({ status: "waiting", updatedAfter: T0 + 501 })).toEqual([]);
        expect(await list({ sessionId: "none" })).toEqual([]);
        // A task moved to another session is found under the new one only.
        await store.updateTask("a", { sessionId: "s2" });
        expect(await list({ sessionId: "s1" })).toEqual(["b"]);
        expect(await list({ sessionId: "s2" })).toEqual(["d", "c", "a"]);

        for (let i = 0; i < 17; i++) await store.createTask(task(`p${String(i).padStart(2, "0")}`, { createdAt: T0 + 100 + (i % 5) }));
        const pages = await allPages((cursor) => store.listTasks({}, { limit: 6, ...(cursor ? { cursor } : {}) }));
        const all = pages.flat();
        expect(pages.map((p) => p.length)).toEqual([6, 6, 6, 3]);
        expect(new Set(ids(all)).size).toBe(21);
        expect(all.map((t) => t.createdAt)).toEqual([...all.map((t) => t.createdAt)].sort((x, y) => y - x));
      });

      it("deleteTasks removes tasks with their journal and outbox, and nothing else", async () => {
        for (const id of ["t1", "t2"]) {
          await store.createTask(task(id));
          await store.appendJournal(id, "step#0", { value: { n: id }, at: T0 });
          await store.putOutbox(id, "status", { messageId: `m-${id}`, platform: "console", at: T0 });
        }
        await store.deleteTasks(["t1", "missing"]);
        expect(await store.getTask("t1")).toBeUndefined();
        expect((await store.getJournal("t1")).size).toBe(0);
        expect((await store.getOutbox("t1")).size).toBe(0);
        expect(ids((await store.listTasks()).items)).toEqual(["t2"]);
        expect(await store.updateTask("t1", { status: "running" })).toBeUndefined();
        await store.deleteTasks([]);
        await reopen();
        expect(await store.getTask("t1")).toBeUndefined();
        expect((await store.getJournal("t1")).size).toBe(0);
        expect((await store.getOutbox("t1")).size).toBe(0);
        expect(await store.getTask("t2")).toEqual(task("t2"));
        expect((await store.getJournal("t2")).get("step#0")).toEqual({ value: { n: "t2" }, at: T0 });
        expect((await store.getOutbox("t2")).get("status")).toEqual({ messageId: "m-t2", platform: "console", at: T0 });
      });
    });

    describe("journal and outbox", () => {
      it("round-trip entries per task and key", async () => {
        expect(await store.getJournal("t1")).toEqual(new Map());
        expect(await store.getOutbox("t1")).toEqual(new Map());
        await store.appendJournal("t1", "collect#0", { value: [{ url: "https://a" }, { url: "https://b" }], at: T0 });
        await store.appendJournal("t1", "ask#0", { value: "This week", at: T0 + 1 });
        await store.appendJournal("t1", "flag#0", { value: false, at: T0 + 2 });
        await store.appendJournal("t2", "collect#0", { value: null, at: T0 + 3 });
        await store.putOutbox("t1", "status", { messageId: "42", platform: "slack", at: T0 });
        await store.putOutbox("t1", "result", { messageId: "43", platform: "slack", at: T0 + 1 });
        const check = async () => {
          const j = await store.getJournal("t1");
          expect([...j.keys()].sort()).toEqual(["ask#0", "collect#0", "flag#0"]);
          expect(j.get("collect#0")).toEqual({ value: [{ url: "https://a" }, { url: "https://b" }], at: T0 });
          expect(j.get("ask#0")).toEqual({ value: "This week", at: T0 + 1 });
          expect(j.get("flag#0")).toEqual({ value: false, at: T0 + 2 });
          expect(await store.getJournal("t2")).toEqual(new Map([["collect#0", { value: null, at: T0 + 3 }]]));
          const o = await store.getOutbox("t1");
          expect(o).toEqual(
            new Map([
              ["status", { messageId: "42", platform: "slack", at: T0 }],
              ["result", { messageId: "43", platform: "slack", at: T0 + 1 }],
            ]),
          );
        };
        await check();
        await reopen();
        await check();
      });
    });

    describe("event de-duplication", () => {
      it("claimEvent is true once, false for re-deliveries, and true again after expiry", async () => {
        vi.useFakeTimers({ toFake: ["Date"] });
        vi.setSystemTime(T0);
        expect(await store.hasEvent("slack:Ev1")).toBe(false);
        expect(await store.claimEvent("slack:Ev1", T0 + 1000)).toBe(true);
        expect(await store.claimEvent("slack:Ev1", T0 + 1000)).toBe(false);
        expect(await store.hasEvent("slack:Ev1")).toBe(true);
        expect(await store.claimEvent("slack:Ev2", T0 + 5000)).toBe(true);
        const both = await Promise.all([store.claimEvent("slack:Ev3", T0 + 1000), store.claimEvent("slack:Ev3", T0 + 1000)]);
        expect(both.sort()).toEqual([false, true]);
        await reopen();
        expect(await store.claimEvent("slack:Ev1", T0 + 1000)).toBe(false);
        vi.setSystemTime(T0 + 1000);
        expect(await store.hasEvent("slack:Ev1")).toBe(false);
        expect(await store.claimEvent("slack:Ev1", T0 + 3000)).toBe(true);
        expect(await store.claimEvent("slack:Ev1", T0 + 3000)).toBe(false);
        expect(await store.claimEvent("slack:Ev2", T0 + 9000)).toBe(false);
        await reopen();
        expect(await store.hasEvent("slack:Ev1")).toBe(true);
        expect(await store.hasEvent("slack:Ev3")).toBe(false);
      });
    });

    describe("copies", () => {
      it("never aliases values passed in or returned", async () => {
        const s = session("s1", { topic: "t" });
        await store.createSession(s);
        s.topic = "changed";
        const got = (await store.getSession("s1"))!;
        got.state = "closed";
        expect(await store.getSession("s1")).toEqual(session("s1", { topic: "t" }));
        const listed = (await store.listSessions()).items[0]!;
        listed.owner = "mallory";
        (await store.findOpenSession("console:s1"))!.owner = "mallory";
        (await store.updateSession("s1", { topic: "u" }))!.owner = "mallory";
        expect((await store.getSession("s1"))!.owner).toBe("alice");

        const t = task("t1");
        await store.createTask(t);
        (t.input as { topic: string }).topic = "changed";
        const patch = { result: { text: "done", links: [{ url: "https://a" }] } };
        const updated = (await store.updateTask("t1", patch))!;
        patch.result.links[0]!.url = "https://evil";
        (updated.input as { topic: string }).topic = "evil";
        (await store.getTask("t1"))!.address.user = "mallory";
        (await store.listTasks()).items[0]!.status = "cancelled";
        const fresh = (await store.getTask("t1"))!;
        expect(fresh.input).toEqual({ topic: "x", nested: { list: [1, 2, 3] } });
        expect(fresh.result).toEqual({ text: "done", links: [{ url: "https://a" }] });
        expect(fresh.address.user).toBe("alice");
        expect(fresh.status).toBe("queued");

        const m = message("s1", 1, { links: [{ url: "https://a" }] });
        await store.appendMessage(m);
        m.links![0]!.url = "https://evil";
        // Listed messages are copies or frozen (history never changes): either way the store's stay as written.
        const listedMessage = (await store.listMessages("s1", 1))[0]!;
        try {
          listedMessage.text = "evil";
        } catch {
          expect(Object.isFrozen(listedMessage)).toBe(true);
        }
        expect(await store.listMessages("s1", 1)).toEqual([message("s1", 1, { links: [{ url: "https://a" }] })]);

        const entry = { value: { list: [1] }, at: T0 };
        await store.appendJournal("t1", "k", entry);
        entry.value.list.push(2);
        const j = await store.getJournal("t1");
        (j.get("k")!.value as { list: number[] }).list.push(3);
        j.delete("k");
        expect((await store.getJournal("t1")).get("k")).toEqual({ value: { list: [1] }, at: T0 });
        const rec = { messageId: "1", platform: "console", at: T0 };
        await store.putOutbox("t1", "k", rec);
        rec.messageId = "2";
        (await store.getOutbox("t1")).get("k")!.messageId = "3";
        expect((await store.getOutbox("t1")).get("k")!.messageId).toBe("1");
      });
    });

    it("keeps everything across close and reopen", async () => {
      if (!h.reopen) return;
      // One open session per key: keys k0…k9 (open or closed), closed sessions sharing them.
      const sessions = Array.from({ length: 30 }, (_, i) => session(`s${i}`, { lastActiveAt: T0 + i, state: i % 5 === 0 || i >= 10 ? "closed" : "idle", key: `k${i % 10}` }));
      const writes: Promise<unknown>[] = [];
      for (const s of sessions) writes.push(store.createSession(s));
      for (let i = 0; i < 20; i++) writes.push(store.createTask(task(`t${i}`, { sessionId: `s${i % 3}`, createdAt: T0 + i })));
      for (let i = 0; i < 20; i++) writes.push(store.appendMessage(message(`s${i % 4}`, i)));
      await Promise.all(writes);
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.updateTask(`t${i}`, { status: "running", percent: i })));
      await store.appendJournal("t3", "step#0", { value: { deep: [1, { x: "y" }] }, at: T0 });
      await store.putOutbox("t3", "status", { messageId: "m1", platform: "console", at: T0 });
      await store.deleteTasks(["t0", "t1"]);
      await store.updateSession("s7", { state: "closed" });
      await store.claimEvent("ev", Date.now() + 60_000);

      const before = {
        sessions: await store.listSessions({}, { limit: 100 }),
        tasks: await store.listTasks({}, { limit: 100 }),
        open: await Promise.all(Array.from({ length: 10 }, (_, i) => store.findOpenSession(`k${i}`))),
        messages: await Promise.all([0, 1, 2, 3].map((i) => store.listMessages(`s${i}`, 100))),
        journal: await store.getJournal("t3"),
        outbox: await store.getOutbox("t3"),
      };
      await reopen();
      expect({
        sessions: await store.listSessions({}, { limit: 100 }),
        tasks: await store.listTasks({}, { limit: 100 }),
        open: await Promise.all(Array.from({ length: 10 }, (_, i) => store.findOpenSession(`k${i}`))),
        messages: await Promise.all([0, 1, 2, 3].map((i) => store.listMessages(`s${i}`, 100))),
        journal: await store.getJournal("t3"),
        outbox: await store.getOutbox("t3"),
      }).toEqual(before);
      expect(before.tasks.items).toHaveLength(18);
      expect(await store.claimEvent("ev", Date.now() + 60_000)).toBe(false);
      // And again, after changes made by the reopened store.
      await store.updateTask("t5", { status: "completed" });
      await reopen();
      expect((await store.getTask("t5"))?.status).toBe("completed");
    });
  });
}
