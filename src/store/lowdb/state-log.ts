/**
 * `state.log`: the append-only JSONL log of changes to the main state since the snapshot.
 *
 * A change resolves once its line is written to the OS (and fsynced with `fsync: true`).
 * Lines from the same tick, or made while a write is in flight, share one fs write.
 */
import { open, rename, unlink, writeFile, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { ChatflowError } from "../../errors.ts";
import { SerialBatcher } from "./batch.ts";
import { fsyncDir, readAt, scanForward, writeAll } from "./jsonl.ts";

export interface StateLogOptions {
  /** fsync after every write (survives OS crashes, much slower). Default false. */
  fsync?: boolean;
  /** Called after each write with the log's size in bytes (the store compacts past a limit). */
  onWritten?: (bytes: number) => void;
  warn: (obj: object, msg: string) => void;
}

export class StateLog {
  #fh: FileHandle | undefined;
  #bytes = 0;
  readonly #batcher = new SerialBatcher<string>((lines) => this.#flush(lines));

  constructor(
    readonly file: string,
    private readonly options: StateLogOptions,
  ) {}

  /** Bytes of whole records in the log (what has been written, not what is pending). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Temp file of a log rewrite; a leftover one is a crash artifact. */
  get tempFile(): string {
    return `${this.file}.tmp`;
  }

  /**
   * Replays every record through `onRecord` (which throws on a bad one: StoreCorruptError,
   * and the file is left as it is), drops a torn last line, then opens the log for appending.
   */
  async open(onRecord: (value: unknown) => void): Promise<void> {
    await unlink(this.tempFile).catch(() => undefined);
    const { validBytes, tornBytes } = await scanForward(this.file, onRecord);
    this.#fh = await open(this.file, "a");
    if (tornBytes > 0) {
      this.options.warn({ file: this.file, tornBytes }, "dropped a torn last line of the store log (the process was stopped mid-write)");
      // Cut it off, or the next append would continue that line and corrupt two records.
      await this.#fh.truncate(validBytes);
    }
    this.#bytes = validBytes;
  }

  /** Appends one line (must end with "\n"); resolves once it is written. */
  append(line: string): Promise<void> {
    return this.#batcher.push(line);
  }

  /** Resolves when everything appended so far is written. */
  drain(): Promise<void> {
    return this.#batcher.drain();
  }

  async #flush(lines: string[]): Promise<void> {
    const fh = this.#fh;
    if (!fh) throw new ChatflowError("store", "The store log is closed.");
    const data = Buffer.from(lines.length === 1 ? lines[0]! : lines.join(""));
    const before = this.#bytes;
    try {
      await writeAll(fh, data);
      if (this.options.fsync) await fh.datasync();
    } catch (error) {
      // A partial write would leave a broken line in the middle of the log: cut it off.
      await fh.truncate(before).catch(() => undefined);
      throw error;
    }
    this.#bytes += data.length;
    this.options.onWritten?.(this.#bytes);
  }

  /**
   * Drops `[0, offset)`: the records a new snapshot already holds. Records written after
   * `offset` (changes made while the snapshot was being written) are kept. Runs between
   * writes; appends made meanwhile wait for it. A crash at any point leaves either the old
   * log or the new one, and replaying the old one over the new snapshot is harmless.
   */
  dropPrefix(offset: number): Promise<void> {
    return this.#batcher.exclusive(async () => {
      const fh = this.#fh;
      if (!fh || offset <= 0) return;
      if (offset >= this.#bytes) {
        // Common case: nothing was written during the snapshot.
        await fh.truncate(0);
        if (this.options.fsync) await fh.datasync();
        this.#bytes = 0;
        return;
      }
      const reader = await open(this.file, "r");
      let keep: Buffer;
      try {
        keep = await readAt(reader, offset, this.#bytes - offset);
      } finally {
        await reader.close();
      }
      const tmp = this.tempFile;
      await writeFile(tmp, keep, { flush: this.options.fsync === true });
      await rename(tmp, this.file);
      if (this.options.fsync) await fsyncDir(dirname(this.file));
      await fh.close();
      this.#fh = await open(this.file, "a");
      this.#bytes = keep.length;
    });
  }

  async close(): Promise<void> {
    await this.drain();
    await this.#fh?.close();
    this.#fh = undefined;
  }
}
