import { fork, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { InboundEvent, OutboundMessage } from "../../src/model.ts";
import { createLowdbStore } from "../../src/store/lowdb/index.ts";

/**
 * A real process running tasks on a lowdb file is killed with SIGKILL at random points and
 * restarted on the same data, while this test plays the chat platform: it sends requests,
 * answers questions and reviews, cancels some tasks, and re-delivers unacknowledged events.
 */
const CHANNELS = 5;
const PER_CHANNEL = 20;
const MIN_KILLS = 20;
const worker = fileURLToPath(new URL("./worker.ts", import.meta.url));
const isCancelTarget = (n: number) => n % 10 === 5;

/** Sends to the child unless it is gone (a killed child's channel closes at any moment). */
function send(proc: ChildProcess | undefined, message: unknown): void {
  if (proc?.connected) proc.send(message as object, () => {});
}

describe("crash safety", () => {
  let dir = "";
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`loses nothing across ${MIN_KILLS}+ SIGKILLs during ${CHANNELS * PER_CHANNEL} tasks`, async () => {
    dir = await mkdtemp(path.join(tmpdir(), "chatflow-crash-"));
    const statusPosts = new Map<string, number>();
    const keys = new Map<string, string>();
    const events = new Map<string, InboundEvent>();
    const acked = new Set<string>();
    const finals = new Map<string, string>();
    /** Status messages that went from a final state back to another one (a final shown before it was stored). */
    const reverted: string[] = [];
    const answered = new Set<string>();
    const channels = Array.from({ length: CHANNELS }, () => ({ index: 0, current: undefined as string | undefined, cancelSent: false, stopped: false }));
    let messageCounter = 0;
    let kills = 0;
    let child: ChildProcess | undefined;
    /** Children this test killed, and each child's exit. */
    const killed = new WeakSet<ChildProcess>();
    const exits = new WeakMap<ChildProcess, Promise<void>>();
    let ready = false;
    let finished = false;
    const address = (c: number) => ({ platform: "ipc", channel: `ch${c}`, user: `user${c}` });
    const nOf = (c: number) => c * 1000 + channels[c]!.index;
    // Each channel goes on past PER_CHANNEL tasks until the kills reach the minimum, so they all happen mid-run.
    const more = (c: number) => channels[c]!.index < PER_CHANNEL || kills < MIN_KILLS;

    const deliver = (event: InboundEvent) => {
      events.set(event.id, event);
      if (ready) send(child, { type: "event", event });
    };
    const request = (c: number) => {
      const n = nOf(c);
      channels[c]!.current = undefined;
      channels[c]!.cancelSent = false;
      deliver({ kind: "message", id: `req-${n}`, address: address(c), text: `task ${n}` });
    };
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const react = (message: OutboundMessage, id: string, c: number, isSend: boolean) => {
      const channel = channels[c]!;
      if (message.kind === "status" && message.taskId) {
        if (isSend && channel.current === undefined && !channel.stopped) channel.current = message.taskId;
        const state = message.progress?.state;
        if (state === "completed" || state === "cancelled" || state === "failed") {
          if (finals.has(message.taskId) && finals.get(message.taskId) !== state) reverted.push(`${message.taskId}: ${finals.get(message.taskId)} → ${state}`);
          finals.set(message.taskId, state);
          if (message.taskId === channel.current) {
            // Count the task once: its final state may be shown again after a restart (an edit to the same state).
            channel.current = undefined;
            channel.index++;
            if (more(c)) request(c);
            else {
              channel.stopped = true;
              if (channels.every((ch) => ch.stopped)) resolveDone();
            }
          }
        } else if (finals.has(message.taskId)) {
          reverted.push(`${message.taskId}: ${finals.get(message.taskId)} → ${String(state)}`);
        } else if (message.taskId === channel.current && isCancelTarget(nOf(c)) && !channel.cancelSent) {
          channel.cancelSent = true;
          deliver({ kind: "command", id: `cancel-${nOf(c)}`, address: address(c), name: "cancel", args: "" });
        }
      }
      if ((message.kind === "question" || message.kind === "review") && message.actions && !answered.has(id)) {
        answered.add(id);
        const action = message.actions.find((a) => a.role === "choice" || a.role === "approve")!;
        setTimeout(() => deliver({ kind: "action", id: `ans-${id}`, address: address(c), actionId: action.id }), Math.random() * 30);
      }
    };

    const spawn = () => {
      ready = false;
      const proc = fork(worker, [], { execArgv: ["--import", "tsx"], env: { ...process.env, CRASH_DIR: dir }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
      child = proc;
      exits.set(proc, new Promise((resolve) => proc.once("exit", () => resolve())));
      proc.on("message", (raw) => {
        const msg = raw as { type: string; op?: string; id?: number; eventId?: string; address?: { channel: string }; message?: OutboundMessage; messageId?: string; key?: string };
        if (msg.type === "ready") {
          ready = true;
          for (const [eventId, event] of events) if (!acked.has(eventId)) send(proc, { type: "event", event });
          if (!finished) setTimeout(() => {
            if (!finished && child === proc) {
              kills++;
              killed.add(proc);
              proc.kill("SIGKILL");
            }
          }, 100 + Math.random() * 300);
          return;
        }
        if (msg.type === "ack") return void acked.add(msg.eventId!);
        if (msg.type !== "call") return;
        const c = Number(msg.address!.channel.slice(2));
        if (msg.op === "send") {
          const id = `p${++messageCounter}`;
          const message = msg.message!;
          if (message.kind === "status" && message.taskId) statusPosts.set(message.taskId, (statusPosts.get(message.taskId) ?? 0) + 1);
          if (message.key) keys.set(message.key, id);
          send(proc, { type: "result", id: msg.id, result: { id } });
          react(message, id, c, true);
        } else if (msg.op === "edit") {
          send(proc, { type: "result", id: msg.id, result: null });
          react(msg.message!, msg.messageId!, c, false);
        } else if (msg.op === "recall") {
          const id = keys.get(msg.key!);
          send(proc, { type: "result", id: msg.id, result: id ? { id } : null });
        }
      });
      proc.on("exit", () => {
        if (child === proc && !finished) spawn();
      });
    };

    spawn();
    for (let c = 0; c < CHANNELS; c++) request(c);
    await done;
    const killsDuringRun = kills;
    finished = true;
    // A child killed just before may not have exited yet (on a busy machine its exit comes late),
    // and after `finished` no exit restarts it: wait for it, then end on a fresh child.
    if (killed.has(child!)) {
      await exits.get(child!);
      spawn();
    }
    while (!ready) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const last = child!;
    last.kill("SIGTERM");
    await exits.get(last);
    console.log(`crash test: ${killsDuringRun} kills during ${channels.reduce((sum, ch) => sum + ch.index, 0)} tasks`);

    expect(killsDuringRun).toBeGreaterThanOrEqual(MIN_KILLS);
    expect(reverted, "status messages taken back from their final state").toEqual([]);
    const total = channels.reduce((sum, ch) => sum + ch.index, 0);
    const store = createLowdbStore({ dir });
    await store.open();
    try {
      const { items: tasks } = await store.listTasks({}, { limit: 1000 });
      expect(tasks).toHaveLength(total);
      expect(total).toBeGreaterThanOrEqual(CHANNELS * PER_CHANNEL);
      const log = (await readFile(path.join(dir, "steps.log"), "utf8")).trim().split("\n");
      for (const task of tasks) {
        const n = Number(String((task.input as { text: string }).text).split(" ")[1]);
        if (isCancelTarget(n)) expect(["completed", "cancelled"]).toContain(task.status);
        else expect(task.status, `task ${n}`).toBe("completed");
        if (task.status === "completed") expect(task.result?.text).toMatch(new RegExp(`^result ${n} `));
        expect(statusPosts.get(task.id), `status posts of task ${n}`).toBe(1);
        expect(finals.has(task.id), `final state shown for task ${n}`).toBe(true);
        // No journaled step ran again after it was journaled.
        const journal = await store.getJournal(task.id);
        for (const [key, entry] of journal) {
          if (!key.startsWith("step:")) continue;
          const doneAt = log.indexOf(`done ${task.id} ${key} ${String(entry.value)}`);
          expect(doneAt, `journaled ${key} of task ${n} has its run in the log`).toBeGreaterThanOrEqual(0);
          expect(log.slice(doneAt + 1).some((line) => line === `start ${task.id} ${key}`), `${key} of task ${n} ran again`).toBe(false);
        }
      }
      // Every request is in history exactly once (answers to questions are there too, with their task).
      const { items: sessions } = await store.listSessions({}, { limit: 100 });
      const texts: string[] = [];
      const answerIds = new Set<string>();
      for (const session of sessions) {
        for (const message of await store.listMessages(session.id, 10_000)) {
          if (message.role !== "user" || message.source !== "user") continue;
          if (message.taskId === undefined) texts.push(message.text);
          else {
            expect(answerIds.has(message.id), `answer ${message.id} twice`).toBe(false);
            answerIds.add(message.id);
          }
        }
      }
      texts.sort();
      const expected = channels.flatMap((ch, c) => Array.from({ length: ch.index }, (_, i) => `task ${c * 1000 + i}`)).sort();
      expect(texts).toEqual(expected);
    } finally {
      await store.close();
    }
  }, 240_000);
});
