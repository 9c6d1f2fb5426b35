/**
 * Generation and high-water marks: how the store notices that its files went backwards.
 *
 * Why: with `state.log` emptied or cut short, or `state.json` deleted or replaced by an older
 * copy, the store used to start without a word: sessions and waiting tasks were gone, feed
 * seqs were handed out again, and the next clean stop made the loss permanent. The marks live
 * in three places, so that losing one file is seen from the others:
 *
 *   state.json   `"gen": G`, one more at each compaction
 *   state.log    first line `{"t":"feedSeq","v":…,"gen":G}`: the log continues snapshot G
 *   MANIFEST     {format, gen, logBytes, feedSeq, writtenAt}: the generation in place, how
 *                many bytes of the log were known written, the feed counter known written
 *
 * MANIFEST is rewritten (temp file + rename, no fsync) after each compaction, after each feed
 * counter reservation (one per 1,000 events), and at most once a second while the log grows,
 * each time after a datasync of the log, so it never claims more than the disk holds: a crash
 * or a power loss can only leave it behind, which the checks accept. The hot write path has no
 * extra write or fsync.
 *
 * At open, with a MANIFEST, these are refused with StoreRolledBackError and nothing is
 * changed: state.json missing, older than MANIFEST's generation or without one; state.log
 * without its header, from another generation, or shorter than MANIFEST's logBytes; a feed
 * counter below MANIFEST's (seqs would be reused). A crash inside a compaction leaves
 * combinations the checks accept (the log one generation behind the snapshot; MANIFEST one
 * behind both). Without a MANIFEST (a new directory, one written by an earlier version, or
 * one whose MANIFEST the operator deleted to accept what is there), the files are taken as
 * they are, the feed counter is raised above every seq in the feed files, and the open
 * compacts to write fresh marks.
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import { StoreCorruptError } from "../../errors.ts";
import type { StateLog } from "./state-log.ts";
import { writeFailed, type WriteHealth } from "./write-health.ts";

export const MANIFEST_FORMAT = 1;
/** How often the high-water mark follows a growing log. */
export const CHECKPOINT_MS = 1000;

export interface Manifest {
  format: number;
  /** The snapshot generation in place when it was written. */
  gen: number;
  /** Bytes of that generation's log known written (and datasynced). */
  logBytes: number;
  /** The feed counter known written (a reservation or the exact last seq). */
  feedSeq: number;
  writtenAt: string;
}

/** The files went backwards: refused at open, every file left as it was. */
export class StoreRolledBackError extends StoreCorruptError {
  constructor(dir: string, file: string, what: string, manifest: string) {
    super(file, what);
    this.message =
      `The store at ${dir} has gone back in time: ${what}. Starting on it would silently lose stored sessions, tasks and schedules, ` +
      `and could number new events with seqs already used. chatflow changed nothing. Put the missing data back from a backup if you have one; ` +
      `to start anyway with what is there (what is missing stays lost), delete ${manifest} and start again.`;
  }
}

/** What open found, for `checkGenerations`. */
export interface OpenFacts {
  dir: string;
  snapshotFile: string;
  logFile: string;
  manifestFile: string;
  snapshot: { exists: boolean; gen?: number };
  log: { gen?: number; bytes: number };
  manifest?: Manifest;
  /** The highest feed counter the snapshot and the log named. */
  feedSeqHigh: number;
}

/**
 * Throws StoreRolledBackError when the files contradict the marks (see the top of this
 * file); returns warnings for what is accepted without a MANIFEST.
 */
export function checkGenerations(f: OpenFacts): string[] {
  const m = f.manifest;
  const S = f.snapshot.gen;
  const L = f.log.gen;
  if (!m) {
    const notes: string[] = [];
    if (S !== undefined || L !== undefined) notes.push(`${f.manifestFile} is missing: taking ${f.snapshotFile} and ${f.logFile} as they are`);
    if (!f.snapshot.exists && L !== undefined) notes.push(`${f.snapshotFile} is missing: starting from the changes in ${f.logFile} alone`);
    return notes;
  }
  const refuse = (file: string, what: string): never => {
    throw new StoreRolledBackError(f.dir, file, what, f.manifestFile);
  };
  const G = m.gen;
  if (!f.snapshot.exists) refuse(f.snapshotFile, `${f.snapshotFile} is missing, though ${f.manifestFile} records generation ${G} of it`);
  if (S === undefined) refuse(f.snapshotFile, `${f.snapshotFile} has no generation mark, though ${f.manifestFile} records generation ${G}: it was replaced by an older copy`);
  if (S! < G) refuse(f.snapshotFile, `${f.snapshotFile} is generation ${S}, older than generation ${G} recorded in ${f.manifestFile}: it was replaced by an older copy`);
  if (L === undefined) {
    refuse(f.logFile, f.log.bytes === 0 ? `${f.logFile} is empty or missing, though it held the changes since generation ${G}` : `${f.logFile} lacks its first line (the generation it continues): it was replaced or cut`);
  }
  if (L! < G || L! > S! || L! < S! - 1) refuse(f.logFile, `${f.logFile} continues generation ${L}, but ${f.snapshotFile} is generation ${S} and ${f.manifestFile} records ${G}: one of them was replaced`);
  if (L === G && f.log.bytes < m.logBytes) {
    refuse(f.logFile, `${f.logFile} holds ${f.log.bytes} bytes of changes, but at least ${m.logBytes} had been written to it: it was cut short`);
  }
  if (L === G && f.feedSeqHigh < m.feedSeq) {
    refuse(f.logFile, `the feed counter in ${f.snapshotFile} and ${f.logFile} is ${f.feedSeqHigh}, but events up to seq ${m.feedSeq} may have been numbered: changes are missing`);
  }
  return [];
}

/** Reads MANIFEST; undefined when missing or unreadable (then `warn`ed: it is only a mark). */
export async function readManifest(file: string, warn: (obj: object, msg: string) => void): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const v = JSON.parse(text) as Partial<Manifest>;
    const whole = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
    if (v.format === MANIFEST_FORMAT && whole(v.gen) && whole(v.logBytes) && whole(v.feedSeq)) return v as Manifest;
  } catch {
    // Falls through: cut short by a power loss, or edited.
  }
  warn({ file }, `ignoring ${file}, which can't be read (a power loss while it was written?): the store opens without checking its generation marks and writes fresh ones`);
  return undefined;
}

/**
 * Keeps MANIFEST following the log (see the top of this file). Its writes never overlap each
 * other or a log rewrite: compaction runs its log cut through `serial` too.
 */
export class HighWater {
  #chain: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #last: Manifest | undefined;
  #warned = false;
  /** The feed counter of the last `feedSeq` line written (the store keeps it current). */
  feedSeqWritten = 0;

  constructor(
    readonly file: string,
    private readonly log: StateLog,
    private readonly health: WriteHealth,
    private readonly warn: (obj: object, msg: string) => void,
    manifest: Manifest | undefined,
  ) {
    this.#last = manifest;
  }

  /** Runs `fn` after every marks operation queued before it. */
  serial<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** Checkpoints every CHECKPOINT_MS while the log grows (the timer doesn't keep the process up). */
  start(intervalMs = CHECKPOINT_MS): void {
    this.#timer ??= setInterval(() => void this.checkpoint(), intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and waits for marks work in flight. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#chain;
  }

  /** Records the log's written size and the feed counter, once they are on the disk. Never throws. */
  checkpoint(): Promise<void> {
    return this.serial(async () => {
      const gen = this.log.gen;
      if (gen === undefined) return;
      const logBytes = this.log.bytes;
      const feedSeq = this.feedSeqWritten;
      const last = this.#last;
      if (last && last.gen === gen && last.logBytes === logBytes && last.feedSeq === feedSeq) return;
      try {
        await this.log.datasync();
        await this.#write(gen, logBytes, feedSeq);
      } catch (error) {
        this.#failed(error);
      }
    });
  }

  /** After a compaction wrote generation `gen` and cut the log (run inside `serial`). Never throws. */
  async compacted(gen: number, feedSeq: number): Promise<void> {
    try {
      await this.#write(gen, this.log.bytes, feedSeq);
    } catch (error) {
      this.#failed(error);
    }
  }

  async #write(gen: number, logBytes: number, feedSeq: number): Promise<void> {
    const m: Manifest = { format: MANIFEST_FORMAT, gen, logBytes, feedSeq, writtenAt: new Date().toISOString() };
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, `${JSON.stringify(m)}\n`);
    await rename(tmp, this.file);
    this.#last = m;
    this.#warned = false;
    this.health.ok("marks");
  }

  /** A lagging mark is safe (see the top of this file): report it, go on. */
  #failed(error: unknown): void {
    const failure = writeFailed("store's high-water file", this.file, "the high-water mark", error);
    this.health.fail("marks", failure);
    if (!this.#warned) this.warn({ file: this.file }, failure.message);
    this.#warned = true;
  }
}
