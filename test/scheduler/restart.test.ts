import { fork, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { OutboundMessage } from "../../src/model.ts";
import { createLowdbStore } from "../../src/store/lowdb/index.ts";

/**
 * Three every-second schedules (`all` policy) on a lowdb file; the process is killed with
 * SIGKILL at random moments, often in the middle of a fire (after the platform took the post
 * but before the process heard back), and restarted on the same data. The test plays the
 * platform (and answers `recall`), then checks every slot was posted exactly once.
 */
const RESTARTS = 20;
const worker = fileURLToPath(new URL("./fixtures/schedule-worker.ts", import.meta.url));

/** Sends to the child unless it is gone (a killed child's channel closes at any moment). */
function send(proc: ChildProcess | undefined, message: unknown): void {
  if (proc?.connected) proc.send(message as object, () => {});
}

describe("scheduler across SIGKILL restarts", () => {
  let dir = "";
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`fires every slot once across ${RESTARTS} restarts`, async () => {
    dir = await mkdtemp(path.join(tmpdir(), "chatflow-sched-"));
    const posts = new Map<string, number>();
    let kills = 0;
    let child: ChildProcess | undefined;
    let readyChild: ChildProcess | undefined;
    /** Children this test killed (their exit may come later), and each child's exit. */
    const killed = new WeakSet<ChildProcess>();
    const exits = new WeakMap<ChildProcess, Promise<void>>();
    /** No more kills once set; `stopped`: no more restarts. */
    let done = false;
    let stopped = false;

    const killNow = (proc: ChildProcess) => {
      if (done || child !== proc || killed.has(proc) || proc.exitCode !== null || proc.signalCode !== null) return;
      kills++;
      killed.add(proc);
      proc.kill("SIGKILL");
    };
    const spawn = () => {
      const proc = fork(worker, [], { execArgv: ["--import", "tsx"], env: { ...process.env, SCHEDULE_DIR: dir }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
      child = proc;
      exits.set(proc, new Promise((resolve) => proc.once("exit", () => resolve())));
      proc.on("message", (raw) => {
        const msg = raw as { type: string; op?: string; id?: number; message?: OutboundMessage; key?: string };
        if (msg.type === "ready") {
          readyChild = proc;
          setTimeout(() => killNow(proc), 400 + Math.random() * 1000);
          return;
        }
        if (msg.type !== "call") return;
        if (msg.op === "send") {
          const key = msg.message!.key!;
          posts.set(key, (posts.get(key) ?? 0) + 1);
          // Sometimes die in the middle of the fire: the platform has the post, the process never hears back.
          if (!done && Math.random() < 0.15) return killNow(proc);
          send(proc, { type: "result", id: msg.id, result: { id: key } });
        } else if (msg.op === "recall") {
          send(proc, { type: "result", id: msg.id, result: posts.has(msg.key!) ? { id: msg.key } : null });
        } else {
          send(proc, { type: "result", id: msg.id, result: null });
        }
      });
      proc.on("exit", () => {
        if (child === proc && !stopped) setTimeout(() => !stopped && spawn(), Math.random() * 800);
      });
      return proc;
    };

    spawn();
    while (kills < RESTARTS) await new Promise((resolve) => setTimeout(resolve, 50));
    done = true;
    // One last clean run that catches up, then a clean stop. The child killed last may not have
    // exited yet (its exit comes late on a busy machine): wait for a fresh child that is ready,
    // since a SIGTERM before that ends the process like a kill, possibly in the middle of a fire.
    while (readyChild !== child || killed.has(child!) || child!.exitCode !== null || child!.signalCode !== null) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    stopped = true;
    const last = child!;
    last.kill("SIGTERM");
    await exits.get(last);
    expect(last.exitCode, "the last run stopped cleanly").toBe(0);

    const store = createLowdbStore({ dir });
    await store.open();
    try {
      const schedules = await store.listSchedules();
      expect(schedules.map((s) => s.id)).toEqual(["a", "b", "c"]);
      for (const schedule of schedules) {
        expect(schedule.pendingSlot).toBeUndefined();
        const first = Math.floor(schedule.createdAt / 1000) * 1000 + 1000;
        const expected: string[] = [];
        for (let slot = first; slot <= schedule.lastSlot!; slot += 1000) expected.push(`sched:${schedule.id}:${slot}`);
        const posted = [...posts.keys()].filter((key) => key.startsWith(`sched:${schedule.id}:`)).sort();
        expect(posted, `slots of ${schedule.id}`).toEqual(expected);
        expect(posted.filter((key) => posts.get(key) !== 1), `duplicates of ${schedule.id}`).toEqual([]);
        expect(expected.length).toBeGreaterThan(20);
      }
    } finally {
      await store.close();
    }
    console.log(`scheduler restart test: ${kills} kills, ${posts.size} slots posted`);
  }, 180_000);
});
