/**
 * `state.json`: the snapshot of the main state, as a lowdb adapter (`Low<StateData>`).
 *
 * Why not lowdb's JSONFile: it runs one JSON.stringify over the whole state, which blocks
 * the event loop for tens of ms at 10k+ records, and it never fsyncs. This adapter
 * serializes record by record, yielding to the event loop every few ms, streams the text to
 * a temp file and renames it over the snapshot (atomic: a reader sees the old or the new
 * file, never half of one). Maps in memory, arrays of records on disk.
 */
import { readFile, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Adapter } from "lowdb";
import { StoreCorruptError } from "../../errors.ts";
import { yieldToLoop } from "./batch.ts";
import { fsyncDir, writeAll } from "./jsonl.ts";
import { checkSession, checkSchedule, checkTask, emptyState, type StateData } from "./state.ts";

/** Snapshot format version, bumped on incompatible changes. */
export const SNAPSHOT_VERSION = 1;
/** Serialize for at most this long (ms) before yielding to the event loop. */
const SLICE_MS = 4;
/** Hand text to the file once this many characters are buffered. */
const FLUSH_CHARS = 256 << 10;

export interface SnapshotFileOptions {
  /** fsync the temp file and the directory (survives OS crashes, slower). Default false. */
  fsync?: boolean;
  /** Clock for dropping expired dedupe keys; default Date.now. */
  now?: () => number;
}

export class SnapshotFile implements Adapter<StateData> {
  /** Size in bytes of the last snapshot written. */
  lastBytes = 0;

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
    try {
      text = await readFile(this.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new StoreCorruptError(this.file, `not valid JSON: ${(error as Error).message}`, { cause: error });
    }
    try {
      return fromDisk(raw);
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
      await step(`{"version":${SNAPSHOT_VERSION},\n"sessions":[`);
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
      await step(`],\n"feedSeq":${data.feedSeq},\n"events":[`);
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
      if (this.options.fsync) await fh.sync();
    } catch (error) {
      await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw error;
    }
    await fh.close();
    await rename(tmp, this.file);
    if (this.options.fsync) await fsyncDir(dirname(this.file));
    this.lastBytes = bytes;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function list(raw: Record<string, unknown>, name: string): unknown[] {
  const v = raw[name];
  if (!Array.isArray(v)) throw new Error(`"${name}" is not an array`);
  return v;
}

/** Builds the in-memory state from the parsed file; throws with the reason on a wrong shape. */
function fromDisk(raw: unknown): StateData {
  if (!isObject(raw)) throw new Error("the top level is not an object");
  if (raw.version !== SNAPSHOT_VERSION) throw new Error(`version ${JSON.stringify(raw.version)}, expected ${SNAPSHOT_VERSION}`);
  const data = emptyState();
  list(raw, "sessions").forEach((s, i) => {
    try {
      checkSession(s);
    } catch (error) {
      throw new Error(`sessions[${i}]: ${(error as Error).message}`);
    }
    data.sessions.set(s.id, s);
  });
  list(raw, "tasks").forEach((t, i) => {
    try {
      checkTask(t);
    } catch (error) {
      throw new Error(`tasks[${i}]: ${(error as Error).message}`);
    }
    data.tasks.set(t.id, t);
  });
  for (const name of ["journal", "outbox"] as const) {
    const byTask = data[name] as Map<string, Map<string, unknown>>;
    list(raw, name).forEach((e, i) => {
      if (!Array.isArray(e) || typeof e[0] !== "string" || typeof e[1] !== "string" || !isObject(e[2])) {
        throw new Error(`${name}[${i}] is not [taskId, key, record]`);
      }
      let entries = byTask.get(e[0]);
      if (!entries) byTask.set(e[0], (entries = new Map()));
      entries.set(e[1], e[2]);
    });
  }
  // Snapshots written before schedules existed have no such list.
  (raw.schedules === undefined ? [] : list(raw, "schedules")).forEach((v, i) => {
    try {
      checkSchedule(v);
    } catch (error) {
      throw new Error(`schedules[${i}]: ${(error as Error).message}`);
    }
    data.schedules.set(v.id, v);
  });
  // Snapshots written before the feed existed have no counter.
  if (raw.feedSeq !== undefined) {
    if (typeof raw.feedSeq !== "number" || !Number.isSafeInteger(raw.feedSeq) || raw.feedSeq < 0) throw new Error(`"feedSeq" is not a whole number`);
    data.feedSeq = raw.feedSeq;
  }
  list(raw, "events").forEach((e, i) => {
    if (!Array.isArray(e) || typeof e[0] !== "string" || typeof e[1] !== "number") throw new Error(`events[${i}] is not [key, expiresAt]`);
    data.events.set(e[0], e[1]);
  });
  return data;
}
