/**
 * The directory lock tells the truth: a directory that can't be written is said to be so
 * (with the OS error), not mistaken for a lock someone holds; a LOCK naming a live process
 * that is not chatflow, or a zombie left by a SIGKILL, is taken over. Real processes: a
 * `sleep` for a live pid that isn't chatflow, and a chatflow child killed under a parent that
 * doesn't reap it for a zombie.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ChatflowError, StoreLockedError } from "../../src/errors.ts";
import { makeUnwritable, onCleanup, openError, openStore, recordingLogger, tempDir, useTempFiles, waitFor } from "./fixtures/files.ts";

useTempFiles();

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const linux = process.platform === "linux";

/** A pid that is certainly not running: a child that already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  const pid = child.pid!;
  await new Promise((r) => child.once("exit", r));
  return pid;
}

/** Starts `command` (sh), killed after the test. */
function started(command: string): ChildProcess {
  const child = spawn("sh", ["-c", command], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  onCleanup(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  });
  return child;
}

/** Resolves each stdout line of `child` matching `pattern`'s first match. */
function lineOf(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolveLine, reject) => {
    let out = "";
    let err = "";
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) resolveLine(m);
    });
    child.once("exit", (code) => reject(new Error(`child exited (${code}) before printing ${pattern}: ${err}`)));
  });
}

const procState = async (pid: number) => {
  const text = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return text.slice(text.lastIndexOf(")") + 2).split(" ")[0];
};

const lockFor = (pid: number, extra: object = {}) => JSON.stringify({ pid, hostname: hostname(), startedAt: new Date().toISOString(), ...extra });

describe("lowdb store lock", () => {
  it("a directory that can't be written, with a stale LOCK: says so, naming the directory and the OS error", async (ctx) => {
    const dir = await tempDir();
    const pid = await deadPid();
    await writeFile(join(dir, "LOCK"), lockFor(pid));
    if (!(await makeUnwritable(dir))) return ctx.skip("neither chmod nor chattr +i can make a directory unwritable for this user here");
    const error = await openError(dir);
    // Before the fix: "another process keeps changing it", after 50 attempts.
    expect(error).toBeInstanceOf(ChatflowError);
    expect(error).not.toBeInstanceOf(StoreLockedError);
    expect(error.message).toMatch(new RegExp(`^The data directory ${dir} is not writable \\((EACCES|EPERM|EROFS): [a-z -]+\\): chatflow must replace the stale lock file ${join(dir, "LOCK")} \\(left by pid ${pid}, which no longer runs\\)\\.`));
    expect(error.message).not.toMatch(/keeps changing|\n\s+at /);
  });

  it("a directory that can't be written, without a LOCK: a sentence, not an unexpected error", async (ctx) => {
    const dir = await tempDir();
    if (!(await makeUnwritable(dir))) return ctx.skip("neither chmod nor chattr +i can make a directory unwritable for this user here");
    const error = await openError(dir);
    expect(error).toBeInstanceOf(ChatflowError);
    expect(error.message).toMatch(new RegExp(`^The data directory ${dir} is not writable \\((EACCES|EPERM|EROFS): [a-z -]+\\): chatflow must create its lock file ${join(dir, "LOCK")} there\\. Make the directory writable`));
  });

  it.skipIf(!linux)("a LOCK naming a live process that is not chatflow is taken over", async () => {
    const sleeper = started("exec sleep 60");
    const pid = sleeper.pid!;
    await waitFor("the sleep to start", async () => (await procState(pid)) === "S");
    for (const extra of [{}, { procStart: "1" }]) {
      // Without procStart (written before it existed): the command line isn't node/chatflow.
      // With one: the pid now belongs to a process started at another time.
      const dir = await tempDir();
      await writeFile(join(dir, "LOCK"), lockFor(pid, extra));
      const logger = recordingLogger();
      const store = await openStore(dir, { logger });
      expect(logger.warnings.find((w) => /stale/.test(w.msg))?.obj).toMatchObject({ stalePid: pid });
      expect(JSON.parse(await readFile(join(dir, "LOCK"), "utf8")).pid).toBe(process.pid);
      await store.close();
    }
  });

  it.skipIf(!linux)("a chatflow process killed with SIGKILL and not yet reaped (a zombie) doesn't hold the lock", async () => {
    const dir = await tempDir();
    // The chatflow child's parent is `sleep` (sh execs it), which never reaps it: after the kill it stays a zombie.
    const parent = started(`"${process.execPath}" --import tsx "${join(here, "fixtures", "hold-store.ts")}" "${dir}" & echo "child $!"; exec sleep 60`);
    const ready = lineOf(parent, /ready (\d+)/);
    const pid = Number((await lineOf(parent, /child (\d+)/))[1]);
    expect(Number((await ready)[1])).toBe(pid);
    expect(JSON.parse(await readFile(join(dir, "LOCK"), "utf8")).pid).toBe(pid);
    // Alive: refused, as before.
    expect(await openError(dir)).toBeInstanceOf(StoreLockedError);

    process.kill(pid, "SIGKILL");
    await waitFor(`pid ${pid} to become a zombie`, async () => (await procState(pid)) === "Z");
    // Before the fix: "in use by another chatflow process (pid …)" until the parent reaps it.
    const logger = recordingLogger();
    const store = await openStore(dir, { logger });
    expect(logger.warnings.some((w) => /stale/.test(w.msg))).toBe(true);
    expect(await store.getSession("child")).toMatchObject({ owner: "bob" });
    expect((await store.listMessages("child", 5)).map((m) => m.text)).toEqual(["hello from the child"]);
  });
});
