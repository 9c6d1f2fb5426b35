/**
 * Appends to many JSONL files (one per session) through file handles kept open, instead of
 * opening and closing the file for every write: under messages arriving one by one (a chat,
 * an HTTP API) the store writes each session's file once per message, and the open and close
 * around each write were most of its system calls. The least recently used idle handles are
 * closed past a limit, so thousands of sessions never exhaust file descriptors.
 *
 * Each time a file is opened, `check` may look at it through the new handle (history and feed
 * files do, once per run: a file with bad lines is set aside, see repair.ts), then a torn last
 * line (a kill mid-append) is cut off, before anything is appended after it.
 */
import { open, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { dropTornTail, fsyncDir, writeAll } from "./jsonl.ts";

export interface AppenderOptions {
  /** Handles kept open at most (idle ones beyond are closed, least recently used first). */
  maxOpen: number;
  /** datasync after each append, and the directory after creating a file. */
  fsync: boolean;
  /** Names the kind of file in the torn-line warning ("history", "feed"). */
  kind: string;
  warn: (obj: object, msg: string) => void;
  /** Looks at a file when a handle to it is opened (before anything is appended). */
  check?: AppendCheck;
}

/** See `AppenderOptions.check`. */
export interface AppendCheck {
  /** Whether `file` (open as `fh`, `size` bytes, not empty) may be appended to as it is. */
  isClean(file: string, fh: FileHandle, size: number): Promise<boolean>;
  /** Called (with the handle closed) when it may not: fixes the file or throws to refuse the append. */
  setAside(file: string): Promise<void>;
}

interface Entry {
  handle: Promise<FileHandle>;
  /** Appends in flight on this handle: it is not closed while any are. */
  busy: number;
}

export class Appender {
  readonly #o: AppenderOptions;
  /** Open (or opening) handles by path, least recently used first. */
  readonly #open = new Map<string, Entry>();

  constructor(options: AppenderOptions) {
    this.#o = options;
  }

  /**
   * Appends `data` to `file`, creating it if needed. Callers keep appends to one file in
   * sequence (each file has one write queue). A failed write closes the handle: the next
   * append reopens the file and checks its end again.
   */
  async append(file: string, data: string): Promise<void> {
    const entry = this.#entry(file);
    entry.busy++;
    try {
      const fh = await entry.handle;
      await writeAll(fh, Buffer.from(data));
      if (this.#o.fsync) await fh.datasync();
    } catch (error) {
      entry.busy--;
      await this.forget(file);
      throw error;
    }
    entry.busy--;
    this.#trim();
  }

  /** Closes `file`'s handle, if open: before the file is replaced or removed. */
  async forget(file: string): Promise<void> {
    const entry = this.#open.get(file);
    if (!entry) return;
    this.#open.delete(file);
    await entry.handle.then((fh) => fh.close()).catch(() => undefined);
  }

  /** Closes every handle (appends must be over). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#open.keys()].map((file) => this.forget(file)));
  }

  #entry(file: string): Entry {
    let entry = this.#open.get(file);
    if (entry) {
      // Most recently used last.
      this.#open.delete(file);
      this.#open.set(file, entry);
      return entry;
    }
    entry = { handle: this.#openFile(file), busy: 0 };
    // A handle that failed to open is not kept: the next append tries again.
    entry.handle.catch(() => this.#open.get(file) === entry && this.#open.delete(file));
    this.#open.set(file, entry);
    return entry;
  }

  async #openFile(file: string): Promise<FileHandle> {
    // "a+": appends always go to the end; reading and truncating are allowed for the checks.
    let fh = await open(file, "a+");
    try {
      let { size } = await fh.stat();
      const check = this.#o.check;
      if (size > 0 && check && !(await check.isClean(file, fh, size))) {
        await fh.close();
        await check.setAside(file);
        fh = await open(file, "a+");
        size = (await fh.stat()).size;
      }
      if (size > 0) {
        const dropped = await dropTornTail(fh);
        if (dropped > 0) this.#o.warn({ file, tornBytes: dropped }, `dropped a torn last line of a ${this.#o.kind} file (the process was stopped mid-write)`);
      } else if (this.#o.fsync) {
        // New (or empty): make its directory entry durable too.
        await fsyncDir(dirname(file));
      }
    } catch (error) {
      await fh.close().catch(() => undefined);
      throw error;
    }
    return fh;
  }

  #trim(): void {
    if (this.#open.size <= this.#o.maxOpen) return;
    for (const [file, entry] of this.#open) {
      if (this.#open.size <= this.#o.maxOpen) break;
      if (entry.busy === 0) void this.forget(file);
    }
  }
}
