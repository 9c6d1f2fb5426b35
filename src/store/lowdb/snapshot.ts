/**
 * `state.json`: the snapshot of the main state, as a lowdb adapter (`Low<StateData>`).
 *
 * Why not lowdb's JSONFile: it runs one JSON.stringify over the whole state, which blocks
 * the event loop for tens of ms at 10k+ records, and it never fsyncs. This adapter
 * serializes record by record, yielding to the event loop every few ms, streams the text to
 * a temp file and renames it over the snapshot (atomic: a reader sees the old or the new
 * file, never half of one). Maps in memory, arrays of records on disk.
 *
 * The snapshot names its generation (`gen`, one more at each compaction; see
 * generations.ts), and is always fsynced with its directory, whatever the `fsync` option: a
 * snapshot is written only at compaction, and the log cut that follows it must never reach
 * the disk before it does. A record in it that can't be used is left out of the state and
 * reported (`lastRead.quarantined`, see quarantine.ts) instead of refusing the whole file.
 */
import { readFile, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Adapter } from "lowdb";
import type { Session } from "../../model.ts";
import type { Schedule, Task } from "../records.ts";
import { StoreCorruptError } from "../../errors.ts";
import { yieldToLoop } from "./batch.ts";
import { fsyncDir, writeAll } from "./jsonl.ts";
import type { Quarantined } from "./quarantine.ts";
import { checkEntry, checkRecord, emptyState, UnusableRecord, type StateData } from "./state.ts";

/** Snapshot format version, bumped on incompatible changes. */
export const SNAPSHOT_VERSION = 1;
/** Serialize for at most this long (ms) before yielding to the event loop. */
const SLICE_MS = 4;
/** Hand text to the file once this many characters are buffered. */
const FLUSH_CHARS = 256 << 10;

export interface SnapshotFileOptions {
  /** Clock for dropping expired dedupe keys; default Date.now. */
  now?: () => number;
}

/** What the last `read()` found besides the data. */
export interface SnapshotRead {
  exists: boolean;
  /** The generation it names; undefined for a missing file or one written before generations. */
  gen?: number;
  /** Records left out of the state because they can't be used. */
  quarantined: Quarantined[];
}

export class SnapshotFile implements Adapter<StateData> {
  /** Size in bytes of the last snapshot written. */
  lastBytes = 0;
  /** The feed counter the last snapshot written holds. */
  lastFeedSeq = 0;
  /** The generation the next `write()` names (the store sets it before each compaction). */
  nextGen = 1;
  lastRead: SnapshotRead = { exists: false, quarantined: [] };

  constructor(
    readonly file: string,
    private readonly options: SnapshotFileOptions = {},
  ) {}

  /** The temp file a write goes through; a leftover one is a crash artifact. */
  get tempFile(): string {
    return join(dirname(this.file), `.${basename(this.file)}.tmp`);
  }

  /** Parses and checks the snapshot; null when there is none yet. Never writes. */
  async read(): Promise<StateData | null> {
    let text: string;
    this.lastRead = { exists: false, quarantined: [] };
    try {
      text = await readFile(this.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
    this.lastRead.exists = true;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new StoreCorruptError(this.file, `not valid JSON: ${(error as Error).message}`, { cause: error });
    }
    try {
      const { data, gen } = fromDisk(raw, (q) => this.lastRead.quarantined.push({ ...q, file: this.file }));
      this.lastRead.gen = gen;
      return data;
    } catch (error) {
      throw new StoreCorruptError(this.file, `unexpected content: ${(error as Error).message}`, { cause: error });
    }
  }

  async write(data: StateData): Promise<void> {
    const tmp = this.tempFile;
    const fh = await open(tmp, "w");
    let bytes = 0;
    try {
      let buf = "";
      let sliceStart = performance.now();
      // Called after every record: hands text to the file and yields when the slice is used up.
      const step = async (text: string) => {
        buf += text;
        if (buf.length >= FLUSH_CHARS) {
          const chunk = Buffer.from(buf);
          buf = "";
          bytes += chunk.length;
          await writeAll(fh, chunk);
          sliceStart = performance.now();
        } else if (performance.now() - sliceStart > SLICE_MS) {
          await yieldToLoop();
          sliceStart = performance.now();
        }
      };
      // Iterating the live maps is safe: records are replaced, never mutated, and any change
      // made during the write is also in the log after the compaction point (see index.ts).
      await step(`{"version":${SNAPSHOT_VERSION},"gen":${this.nextGen},\n"sessions":[`);
      let sep = "";
      for (const s of data.sessions.values()) {
        await step(sep + JSON.stringify(s));
        sep = ",\n";
      }
      await step(`],\n"tasks":[`);
      sep = "";
      for (const t of data.tasks.values()) {
        await step(sep + JSON.stringify(t));
        sep = ",\n";
      }
      for (const name of ["journal", "outbox"] as const) {
        await step(`],\n"${name}":[`);
        sep = "";
        for (const [taskId, entries] of data[name]) {
          for (const [key, value] of entries as Map<string, unknown>) {
            await step(sep + JSON.stringify([taskId, key, value]));
            sep = ",\n";
          }
        }
      }
      await step(`],\n"schedules":[`);
      sep = "";
      for (const schedule of data.schedules.values()) {
        await step(sep + JSON.stringify(schedule));
        sep = ",\n";
      }
      const feedSeq = data.feedSeq;
      await step(`],\n"feedSeq":${feedSeq},\n"events":[`);
      sep = "";
      const now = (this.options.now ?? Date.now)();
      for (const [key, expiresAt] of data.events) {
        // Expired dedupe keys are dropped here, from the file and from memory.
        if (expiresAt <= now) {
          data.events.delete(key);
          continue;
        }
        await step(sep + JSON.stringify([key, expiresAt]));
        sep = ",\n";
      }
      const tail = Buffer.from(`${buf}]}\n`);
      bytes += tail.length;
      await writeAll(fh, tail);
      await fh.sync();
      this.lastFeedSeq = feedSeq;
    } catch (error) {
      await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw error;
    }
    await fh.close();
    await rename(tmp, this.file);
    await fsyncDir(dirname(this.file));
    this.lastBytes = bytes;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function list(raw: Record<string, unknown>, name: string): unknown[] {
  const v = raw[name];
  if (!Array.isArray(v)) throw new Error(`"${name}" is not an array`);
  return v;
}

/**
 * Builds the in-memory state from the parsed file. A record that can't be used goes to
 * `quarantine` and is left out; a wrong overall shape throws with the reason.
 */
function fromDisk(raw: unknown, quarantine: (q: Omit<Quarantined, "file">) => void): { data: StateData; gen?: number } {
  if (!isObject(raw)) throw new Error("the top level is not an object");
  if (raw.version !== SNAPSHOT_VERSION) throw new Error(`version ${JSON.stringify(raw.version)}, expected ${SNAPSHOT_VERSION}`);
  let gen: number | undefined;
  // Snapshots written before generations have none.
  if (raw.gen !== undefined) {
    if (typeof raw.gen !== "number" || !Number.isSafeInteger(raw.gen) || raw.gen < 1) throw new Error(`"gen" is not a whole number above 0`);
    gen = raw.gen;
  }
  const data = emptyState();
  /** Runs `fn`; an UnusableRecord it throws is set aside as `name[i]`. */
  const each = (name: string, items: unknown[], fn: (item: unknown) => void) =>
    items.forEach((item, i) => {
      try {
        fn(item);
      } catch (error) {
        if (!(error instanceof UnusableRecord)) throw new Error(`${name}[${i}]: ${(error as Error).message}`);
        quarantine({ kind: error.kind, id: error.id, where: `${name}[${i}]`, reason: error.message });
      }
    });
  each("sessions", list(raw, "sessions"), (s) => {
    checkRecord("session", s);
    data.sessions.set((s as Session).id, s as Session);
  });
  each("tasks", list(raw, "tasks"), (t) => {
    checkRecord("task", t);
    data.tasks.set((t as Task).id, t as Task);
  });
  for (const name of ["journal", "outbox"] as const) {
    const byTask = data[name] as Map<string, Map<string, unknown>>;
    each(name, list(raw, name), (e) => {
      if (!Array.isArray(e)) throw new UnusableRecord(name, undefined, undefined, `not [taskId, key, ${name} entry]`);
      checkEntry(name, e[0], e[1], e[2]);
      let entries = byTask.get(e[0] as string);
      if (!entries) byTask.set(e[0] as string, (entries = new Map()));
      entries.set(e[1] as string, e[2]);
    });
  }
  // Snapshots written before schedules existed have no such list.
  each("schedules", raw.schedules === undefined ? [] : list(raw, "schedules"), (v) => {
    checkRecord("schedule", v);
    data.schedules.set((v as Schedule).id, v as Schedule);
  });
  // Snapshots written before the feed existed have no counter.
  if (raw.feedSeq !== undefined) {
    if (typeof raw.feedSeq !== "number" || !Number.isSafeInteger(raw.feedSeq) || raw.feedSeq < 0) throw new Error(`"feedSeq" is not a whole number`);
    data.feedSeq = raw.feedSeq;
  }
  each("events", list(raw, "events"), (e) => {
    if (!Array.isArray(e) || typeof e[0] !== "string" || typeof e[1] !== "number") {
      throw new UnusableRecord("dedupe key", Array.isArray(e) && typeof e[0] === "string" ? e[0] : undefined, undefined, "not [key, expiresAt]");
    }
    data.events.set(e[0], e[1]);
  });
  return { data, gen };
}
