/**
 * What Linux's /proc says about a process, for the directory lock (lock.ts).
 *
 * Why: "a process with this pid exists" (kill(pid, 0)) is not "the chatflow process that wrote
 * the lock still runs". The pid may belong to something else (pid 1 in a container, a pid
 * reused after a reboot), and a process killed with SIGKILL stays a zombie until its parent
 * reaps it, which made a restart right after a kill fail. The start time in /proc/<pid>/stat
 * identifies one process for its whole life, and the state field says whether it is a zombie.
 * Elsewhere (macOS, Windows) these answer undefined and the lock falls back to kill(pid, 0).
 */
import { readFile } from "node:fs/promises";

export interface ProcStat {
  /** One letter: R running, S sleeping, Z zombie, X dead, … */
  state: string;
  /** Clock ticks after boot at which the process started: with the pid, names one process. */
  startTime: string;
}

/** Parses /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses. */
function parseStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(")");
  if (close === -1) return undefined;
  const fields = text.slice(close + 2).split(" ");
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  const state = fields[0];
  const startTime = fields[19];
  return state && startTime ? { state, startTime } : undefined;
}

/**
 * The process's state and start time; "gone" when no such process exists; undefined when
 * /proc can't tell (not Linux, or /proc hidden).
 */
export async function procStat(pid: number): Promise<ProcStat | "gone" | undefined> {
  try {
    return parseStat(await readFile(`/proc/${pid}/stat`, "utf8"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOENT also when /proc isn't there at all: tell the two apart through our own entry.
    if ((code === "ENOENT" || code === "ESRCH") && (await ownStartTime()) !== undefined) return "gone";
    return undefined;
  }
}

let own: Promise<string | undefined> | undefined;

/** This process's start time from /proc/self/stat (undefined off Linux). */
export function ownStartTime(): Promise<string | undefined> {
  own ??= readFile("/proc/self/stat", "utf8").then(
    (text) => parseStat(text)?.startTime,
    () => undefined,
  );
  return own;
}

/** The process's command line, arguments joined by spaces (undefined when /proc can't tell). */
export async function procCmdline(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\u0000").join(" ").trim();
  } catch {
    return undefined;
  }
}
