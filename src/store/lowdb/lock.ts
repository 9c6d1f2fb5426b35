/**
 * The data directory lock: `<dir>/LOCK`, created exclusively, holding
 * `{pid, hostname, startedAt, token, procStart}`. lowdb has no lock between processes; two
 * chatflow processes on the same files would overwrite each other's snapshots and run every
 * task twice. So a second process refuses to start, with a message that says who holds the
 * directory and what to do.
 *
 * A LOCK whose holder is gone is taken over. On Linux "gone" is read from /proc (proc.ts): no
 * such pid, a zombie (a process killed with SIGKILL whose parent has not reaped it yet holds
 * nothing), or a pid now used by another process (its start time differs from `procStart`;
 * for locks written without one, its command line mentions neither node nor chatflow).
 * Elsewhere, kill(pid, 0). A directory that can't be written is said to be so, with the OS
 * error, instead of being mistaken for a lock someone else holds.
 */
import { randomBytes } from "node:crypto";
import { link, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { ChatflowError, StoreLockedError } from "../../errors.ts";
import { ownStartTime, procCmdline, procStat } from "./proc.ts";
import { describeOsError, isNotWritable } from "./write-health.ts";

export interface LockInfo {
  pid: number;
  hostname: string;
  /** ISO time the holder opened the store. */
  startedAt: string;
  /** Random: tells two locks of the same pid apart. */
  token?: string;
  /** The holder's start time from /proc/<pid>/stat (Linux): with the pid, names one process. */
  procStart?: string;
}

/** Command lines that may be a chatflow process (for locks written without `procStart`). */
const MAY_BE_CHATFLOW = /node|chatflow|tsx|bun|deno/i;

/** Directories locked by stores in this process (a second store here must refuse too). */
const heldHere = new Set<string>();

/** An empty/unreadable LOCK younger than this may be one being written right now: wait. */
const CREATING_GRACE_MS = 250;
const ATTEMPTS = 50;

function lockedError(dir: string, holder: LockInfo): StoreLockedError {
  if (holder.hostname !== hostname()) {
    return new StoreLockedError(
      `The data directory ${dir} is locked by chatflow process pid ${holder.pid} on host ${holder.hostname}, which this host can't check. ` +
        `If no chatflow process runs there any more, delete ${join(dir, "LOCK")}; otherwise point store.dir at another directory.`,
    );
  }
  return new StoreLockedError(
    `The data directory ${dir} is in use by another chatflow process (pid ${holder.pid}). Stop that process first, or point store.dir at another directory.`,
  );
}

function parseHolder(text: string): LockInfo | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v.pid === "number" && Number.isInteger(v.pid) && v.pid > 0 && typeof v.hostname === "string") {
      const info: LockInfo = { pid: v.pid, hostname: v.hostname, startedAt: String(v.startedAt ?? "") };
      if (typeof v.procStart === "string") info.procStart = v.procStart;
      return info;
    }
  } catch {
    // Falls through: a LOCK cut short by a crash while it was being written.
  }
  return undefined;
}

/** Whether the holder may still be running. Other hosts can't be checked: assume alive. */
async function isAlive(holder: LockInfo): Promise<boolean> {
  if (holder.hostname !== hostname()) return true;
  // Our own pid but not held by this process: a previous run of ours (containers reuse pid 1).
  if (holder.pid === process.pid) return false;
  const proc = await procStat(holder.pid);
  if (proc === "gone") return false;
  if (proc) {
    // A zombie has exited: it holds nothing, though kill(pid, 0) still finds it.
    if (proc.state === "Z" || proc.state === "X" || proc.state === "x") return false;
    if (holder.procStart !== undefined) return proc.startTime === holder.procStart;
    const cmdline = await procCmdline(holder.pid);
    if (cmdline !== undefined) return MAY_BE_CHATFLOW.test(cmdline);
    return true;
  }
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The sentence for a LOCK that can't be created, read or replaced. `need` completes "chatflow
 * must …" ("create its lock file /d/LOCK there").
 */
function lockFsError(dir: string, need: string, error: unknown): ChatflowError {
  const os = describeOsError(error);
  const fix = `Make the directory writable for the user running chatflow, or point store.dir at a directory it can write.`;
  if (isNotWritable(error)) return new ChatflowError("store", `The data directory ${dir} is not writable (${os}): chatflow must ${need}. ${fix}`, { cause: error });
  return new ChatflowError("store", `chatflow could not use the data directory ${dir} (${os}): it must ${need}. ${fix}`, { cause: error });
}

/** A held lock; `release()` removes the file if it is still ours. */
export class DirLock {
  constructor(
    readonly file: string,
    private readonly key: string,
    private readonly content: string,
  ) {}

  async release(): Promise<void> {
    heldHere.delete(this.key);
    try {
      // Never delete a lock that someone else took over meanwhile.
      if ((await readFile(this.file, "utf8")) === this.content) await unlink(this.file);
    } catch {
      // Already gone: nothing to release.
    }
  }
}

/**
 * Takes `<dir>/LOCK` or throws StoreLockedError. A lock whose holder is dead on this host,
 * or that is empty/unreadable (a crash while it was being created), is taken over.
 * @param warn called when a stale lock is taken over.
 */
export async function acquireLock(dir: string, warn: (obj: object, msg: string) => void): Promise<DirLock> {
  const key = resolve(dir);
  const file = join(key, "LOCK");
  const me: LockInfo = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), token: randomBytes(8).toString("hex") };
  const procStart = await ownStartTime();
  if (procStart !== undefined) me.procStart = procStart;
  const content = `${JSON.stringify(me)}\n`;
  if (heldHere.has(key)) throw lockedError(key, me);

  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    try {
      await writeFile(file, content, { flag: "wx" });
      heldHere.add(key);
      return new DirLock(file, key, content);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw lockFsError(key, `create its lock file ${file} there`, error);
    }
    let seen: string;
    try {
      seen = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue; // Removed meanwhile: try to create it again.
      throw lockFsError(key, `read the lock file ${file}`, error);
    }
    const holder = parseHolder(seen);
    if (holder && (await isAlive(holder))) throw lockedError(key, holder);
    if (!holder) {
      const age = await stat(file).then((s) => Date.now() - s.mtimeMs, () => Infinity);
      if (age < CREATING_GRACE_MS) {
        await sleep(50);
        continue;
      }
    }
    // Take over. Move the stale file aside first (rename is atomic), then check we moved what
    // we judged dead: if another process replaced it meanwhile, put theirs back.
    const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      await rename(file, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue; // Taken over by someone else meanwhile.
      const whose = holder ? `left by pid ${holder.pid}, which no longer runs` : "left half-written by a crash";
      throw lockFsError(key, `replace the stale lock file ${file} (${whose})`, error);
    }
    const moved = await readFile(aside, "utf8").catch(() => "");
    if (moved !== seen) {
      await link(aside, file).catch(() => undefined); // exclusive: fails if the slot is taken
      await unlink(aside).catch(() => undefined);
      continue;
    }
    await unlink(aside).catch(() => undefined);
    warn({ dir: key, stalePid: holder?.pid, staleStartedAt: holder?.startedAt }, "took over a stale store lock left by a process that is gone");
  }
  throw new StoreLockedError(`Could not take the lock ${file} after ${ATTEMPTS} attempts: another process keeps changing it. Point store.dir at another directory.`);
}
