/**
 * Records set aside at open: `<dir>/quarantine/`.
 *
 * Why: one stored record that can't be used (a schedule whose input nests 4,000 levels deep
 * made every `listSchedules()` throw, so the bot could not start) must not stop the start or
 * the listings of the others. At open such a record is left out of the state, reported with
 * its kind and id, and kept here, never silently deleted:
 *
 *   quarantine/<time>.jsonl       one line per record: {kind, id, file, where, reason,
 *                                 setAsideAt, line (the state.log line as it was), previous
 *                                 (an older version the state held, also left out)}
 *   quarantine/<time>.state.json  a byte copy of state.json, when records came from it
 *
 * The open that sets records aside then compacts, so the live files no longer hold them.
 * Nothing reads this directory again: it is for whoever repairs the records by hand.
 */
import { copyFile, mkdir, rename, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { ChatflowError } from "../../errors.ts";
import { fsyncDir } from "./jsonl.ts";
import { describeOsError } from "./write-health.ts";

/** One record left out of the state at open. */
export interface Quarantined {
  /** "schedule", "task", "session", "journal", "outbox", "dedupe key", … */
  kind: string;
  /** Its id (task/key for journal and outbox entries), when it has a readable one. */
  id?: string;
  /** The file it was read from. */
  file: string;
  /** Where in the file: `line 12` or `schedules[3]`. */
  where: string;
  reason: string;
  /** The line as it was on disk (state.log records). */
  raw?: string;
  /** An older version of the same record that the state held: left out too, kept here. */
  previous?: unknown;
}

/**
 * Writes the quarantine files for `items` (fsynced: the compaction that follows drops the
 * records from the live files) and reports each through `warn`. Resolves the index file.
 */
export async function saveQuarantine(dir: string, items: readonly Quarantined[], snapshotFile: string, warn: (obj: object, msg: string) => void): Promise<string> {
  const qdir = join(dir, "quarantine");
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const index = join(qdir, `${stamp}.jsonl`);
  const copy = join(qdir, `${stamp}.state.json`);
  const fromSnapshot = items.some((q) => q.file === snapshotFile);
  const setAsideAt = new Date().toISOString();
  const lines = items.map((q) => {
    const entry: Record<string, unknown> = { kind: q.kind, id: q.id, file: q.file, where: q.where, reason: q.reason, setAsideAt };
    if (q.raw !== undefined) entry.line = q.raw;
    if (q.file === snapshotFile) entry.snapshotCopy = basename(copy);
    if (q.previous !== undefined) entry.previous = q.previous;
    return `${JSON.stringify(entry)}\n`;
  });
  try {
    await mkdir(qdir, { recursive: true });
    if (fromSnapshot) await copyFile(snapshotFile, copy);
    await writeFile(`${index}.tmp`, lines.join(""), { flush: true });
    await rename(`${index}.tmp`, index);
    await fsyncDir(qdir);
  } catch (error) {
    throw new ChatflowError(
      "store",
      `chatflow found ${items.length} stored record(s) it can't use and could not set them aside in ${qdir} (${describeOsError(error)}); nothing was changed. ` +
        `Make the data directory writable, then start again.`,
      { cause: error },
    );
  }
  for (const q of items) {
    const name = q.id === undefined ? `a ${q.kind} without a readable id` : `the ${q.kind} ${JSON.stringify(q.id)}`;
    warn(
      { kind: q.kind, id: q.id, file: q.file, where: q.where, quarantine: index },
      `set aside ${name} (${q.file}, ${q.where}): ${q.reason}. The other records are loaded; this one is kept in ${index}`,
    );
  }
  return index;
}
