/**
 * `state.log`: the append-only JSONL log of changes to the main state since the snapshot.
 *
 * A change resolves once its line is written to the OS (and fsynced with `fsync: true`).
 * Lines from the same tick, or made while a write is in flight, share one fs write. A failed
 * write rejects with a sentence naming the file and the OS error code, and is reported to
 * the store's WriteHealth.
 *
 * The first line is a header, `{"t":"feedSeq","v":<counter>,"gen":<G>}`: the log continues
 * snapshot generation G (see generations.ts). It is an ordinary feed counter record (the
 * snapshot's value), so versions that don't know generations still read the file.
 */
import { open, rename, unlink, writeFile, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { ChatflowError } from "../../errors.ts";
import { SerialBatcher } from "./batch.ts";
import { fsyncDir, readAt, scanForward, writeAll } from "./jsonl.ts";
import { writeFailed, type WriteHealth } from "./write-health.ts";

export interface StateLogOptions {
  /** fsync after every write (survives OS crashes, much slower). Default false. */
  fsync?: boolean;
  /** Called after each write with the log's size in bytes (the store compacts past a limit). */
  onWritten?: (bytes: number) => void;
  warn: (obj: object, msg: string) => void;
  health: WriteHealth;
}

/** What a scan found. */
export interface LogScan {
  /** The generation the header names; undefined without a header (empty, or written before generations). */
  gen?: number;
  /** Bytes of whole records (a torn last line not counted). */
  validBytes: number;
  tornBytes: number;
}

/** The header line of a log that continues snapshot `gen`, whose feed counter was `feedSeq`. */
export function logHeader(gen: number, feedSeq: number): string {
  return `${JSON.stringify({ t: "feedSeq", v: feedSeq, gen })}\n`;
}

export class StateLog {
  #fh: FileHandle | undefined;
  #bytes = 0;
  #gen: number | undefined;
  /** Bytes of the header line (0 without one). */
  #headerBytes = 0;
  /** Set when a failed write could not be cut off: nothing may be appended after it. */
  #broken: ChatflowError | undefined;
  readonly #batcher = new SerialBatcher<string>((lines) => this.#flush(lines));

  constructor(
    readonly file: string,
    private readonly options: StateLogOptions,
  ) {}

  /** Bytes of whole records in the log (what has been written, not what is pending). */
  get bytes(): number {
    return this.#bytes;
  }

  /** The snapshot generation the log's header names (undefined before the first compaction of a directory without one). */
  get gen(): number | undefined {
    return this.#gen;
  }

  /** True when the log holds changes besides its header (the store compacts them at close). */
  get hasRecords(): boolean {
    return this.#bytes > this.#headerBytes;
  }

  /** Temp file of a log rewrite; a leftover one is a crash artifact. */
  get tempFile(): string {
    return `${this.file}.tmp`;
  }

  /**
   * Replays every record through `onRecord` (which throws on a bad one: StoreCorruptError
   * naming the line, unless it handles the record itself) and notes the header. Reads only:
   * the store checks what it found before anything is written (`openForAppend`).
   */
  async scan(onRecord: (value: unknown, line: number, text: string) => void): Promise<LogScan> {
    let gen: number | undefined;
    let headerBytes = 0;
    const { validBytes, tornBytes } = await scanForward(this.file, (value, line, text) => {
      if (line === 1) {
        const v = value as { t?: unknown; gen?: unknown };
        if (v !== null && typeof v === "object" && v.t === "feedSeq" && typeof v.gen === "number" && Number.isSafeInteger(v.gen) && v.gen > 0) {
          gen = v.gen;
          headerBytes = Buffer.byteLength(text) + 1;
        }
      }
      onRecord(value, line, text);
    });
    this.#gen = gen;
    this.#headerBytes = headerBytes;
    this.#bytes = validBytes;
    return { gen, validBytes, tornBytes };
  }

  /** Opens the scanned log for appending: removes a leftover temp file and cuts a torn last line. */
  async openForAppend(scan: LogScan): Promise<void> {
    await unlink(this.tempFile).catch(() => undefined);
    this.#fh = await open(this.file, "a");
    if (scan.tornBytes > 0) {
      this.options.warn({ file: this.file, tornBytes: scan.tornBytes }, "dropped a torn last line of the store log (the process was stopped mid-write)");
      // Cut it off, or the next append would continue that line and corrupt two records.
      await this.#fh.truncate(scan.validBytes);
    }
    this.#bytes = scan.validBytes;
  }

  /** Appends one line (must end with "\n"); resolves once it is written. */
  append(line: string): Promise<void> {
    return this.#batcher.push(line);
  }

  /** Resolves when everything appended so far is written. */
  drain(): Promise<void> {
    return this.#batcher.drain();
  }

  /** Flushes what was written so far to the disk (for the high-water mark, see generations.ts). */
  async datasync(): Promise<void> {
    await this.#fh?.datasync();
  }

  async #flush(lines: string[]): Promise<void> {
    if (this.#broken) throw this.#broken;
    const fh = this.#fh;
    if (!fh) throw new ChatflowError("store", "The store log is closed.");
    const data = Buffer.from(lines.length === 1 ? lines[0]! : lines.join(""));
    const before = this.#bytes;
    try {
      await writeAll(fh, data);
      if (this.options.fsync) await fh.datasync();
    } catch (error) {
      const what = lines.length === 1 ? "the change" : `${lines.length} changes`;
      const failure = writeFailed("store log", this.file, what, error);
      this.options.health.fail("state log", failure);
      // A partial write would leave a broken line in the middle of the log: cut it off.
      await fh.truncate(before).catch((cut: unknown) => {
        this.#broken = writeFailed("store log", this.file, "any further change", cut);
        this.options.health.fail("state log", this.#broken);
      });
      throw failure;
    }
    this.#bytes += data.length;
    this.options.health.ok("state log");
    this.options.onWritten?.(this.#bytes);
  }

  /**
   * Replaces `[0, offset)` (the records a new snapshot already holds) by `header`, the first
   * line of generation `gen`. Records written after `offset` (changes made while the snapshot
   * was being written) are kept. Runs between writes; appends made meanwhile wait for it.
   * The new log is written to a temp file, fsynced and renamed over the old one (whatever the
   * `fsync` option: it must not reach the disk before the snapshot it follows), so a crash
   * leaves the old log or the new one, and replaying the old one over the new snapshot is
   * harmless.
   */
  dropPrefix(offset: number, header: string, gen: number): Promise<void> {
    return this.#batcher.exclusive(async () => {
      const fh = this.#fh;
      if (!fh) return;
      const keepFrom = Math.min(Math.max(offset, 0), this.#bytes);
      let kept: Buffer = Buffer.alloc(0);
      if (keepFrom < this.#bytes) {
        const reader = await open(this.file, "r");
        try {
          kept = await readAt(reader, keepFrom, this.#bytes - keepFrom);
        } finally {
          await reader.close();
        }
      }
      const next = Buffer.concat([Buffer.from(header), kept]);
      const tmp = this.tempFile;
      await writeFile(tmp, next, { flush: true });
      await rename(tmp, this.file);
      await fsyncDir(dirname(this.file));
      this.#fh = undefined;
      await fh.close().catch(() => undefined);
      this.#fh = await open(this.file, "a");
      this.#bytes = next.length;
      this.#headerBytes = Buffer.byteLength(header);
      this.#gen = gen;
      this.#broken = undefined;
    });
  }

  async close(): Promise<void> {
    await this.drain();
    await this.#fh?.close();
    this.#fh = undefined;
  }
}
