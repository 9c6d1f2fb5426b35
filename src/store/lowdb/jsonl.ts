/**
 * Low-level helpers for the store's append-only JSONL files (`state.log`, `history/*.jsonl`).
 *
 * Every record is written as one line ending in `\n`, in a single write. So after a process
 * kill the only possible damage is a torn *last* line (no trailing newline): that is a crash
 * artifact, dropped with a warning. Anything else that doesn't parse is corruption.
 */
import { open, type FileHandle } from "node:fs/promises";
import { StoreCorruptError } from "../../errors.ts";

const NEWLINE = 0x0a;
/** Read size for scans: 1 MiB forwards (open only), 64 KiB backwards (tails are short). */
const FORWARD_CHUNK = 1 << 20;
const BACKWARD_CHUNK = 64 << 10;

/** Optional fsync: with `fsync: false` writes survive a process kill, not an OS crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } catch {
    // Some platforms/filesystems refuse fsync on a directory; the data itself is synced.
  } finally {
    await fh.close();
  }
}

/** Writes all of `data` at the handle's position (append handles: at the end). */
export async function writeAll(fh: FileHandle, data: Buffer): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const { bytesWritten } = await fh.write(data, off, data.length - off);
    off += bytesWritten;
  }
}

/** Reads `length` bytes at `position` (fewer only at end of file). */
export async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === length ? buf : buf.subarray(0, got);
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === "ENOENT";
}

export interface ScanResult {
  /** Bytes up to and including the last newline: the part that holds whole records. */
  validBytes: number;
  /** Bytes after the last newline: a torn write, 0 when the file ends cleanly. */
  tornBytes: number;
}

/**
 * Reads a JSONL file front to back and hands each complete line, parsed, to `onRecord`.
 * A line that doesn't parse, or that `onRecord` rejects by throwing, is corruption:
 * StoreCorruptError naming the file and the line. A missing file scans as empty.
 * Meant for start-up (it doesn't yield between chunks).
 */
export async function scanForward(file: string, onRecord: (value: unknown) => void): Promise<ScanResult> {
  let fh: FileHandle;
  try {
    fh = await open(file, "r");
  } catch (error) {
    if (isMissing(error)) return { validBytes: 0, tornBytes: 0 };
    throw error;
  }
  try {
    let carry: Buffer = Buffer.alloc(0);
    let pos = 0;
    let validBytes = 0;
    let lineNo = 0;
    for (;;) {
      const chunk = await readAt(fh, pos, FORWARD_CHUNK);
      if (chunk.length === 0) break;
      pos += chunk.length;
      const buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      let start = 0;
      for (let nl = buf.indexOf(NEWLINE, start); nl !== -1; nl = buf.indexOf(NEWLINE, start)) {
        lineNo++;
        const text = buf.toString("utf8", start, nl);
        try {
          onRecord(JSON.parse(text));
        } catch (error) {
          throw new StoreCorruptError(file, `line ${lineNo} is not a valid record: ${(error as Error).message}`, { cause: error });
        }
        start = nl + 1;
      }
      validBytes += start;
      carry = Buffer.from(buf.subarray(start));
    }
    return { validBytes, tornBytes: carry.length };
  } finally {
    await fh.close();
  }
}

/**
 * Yields the newline-separated segments of `[0, end)` from the last to the first, each with
 * its byte offset. Reads 64 KiB at a time, so a tail costs the same in a file of any size.
 */
async function* segmentsBackward(fh: FileHandle, end: number): AsyncGenerator<{ bytes: Buffer; offset: number }> {
  let pos = end;
  let carry: Buffer = Buffer.alloc(0);
  while (pos > 0) {
    const len = Math.min(BACKWARD_CHUNK, pos);
    pos -= len;
    const chunk = await readAt(fh, pos, len);
    const buf = carry.length > 0 ? Buffer.concat([chunk, carry]) : chunk;
    let segEnd = buf.length;
    // lastIndexOf with offset -1 would search from the end again: guard segEnd > 0.
    let nl = segEnd > 0 ? buf.lastIndexOf(NEWLINE, segEnd - 1) : -1;
    while (nl !== -1) {
      yield { bytes: buf.subarray(nl + 1, segEnd), offset: pos + nl + 1 };
      segEnd = nl;
      nl = segEnd > 0 ? buf.lastIndexOf(NEWLINE, segEnd - 1) : -1;
    }
    carry = buf.subarray(0, segEnd);
  }
  yield { bytes: carry, offset: 0 };
}

/**
 * If the file's last line has no trailing newline (the process was killed mid-append),
 * truncates it off so the next append starts on a fresh line. Returns the bytes dropped.
 * The handle must be writable.
 */
export async function dropTornTail(fh: FileHandle): Promise<number> {
  const { size } = await fh.stat();
  if (size === 0) return 0;
  const last = await readAt(fh, size - 1, 1);
  if (last[0] === NEWLINE) return 0;
  for await (const seg of segmentsBackward(fh, size)) {
    await fh.truncate(seg.offset);
    return size - seg.offset;
  }
  return 0;
}

export interface TailResult {
  /** Up to `limit` parsed records, oldest first. */
  values: unknown[];
  /** True when the file holds no more records than returned. */
  complete: boolean;
  /** Bytes of a torn last line that were skipped (0 normally). */
  tornBytes: number;
}

/**
 * The last `limit` records of a JSONL file, read backwards in chunks (never the whole file).
 * A torn last line is skipped; a line that doesn't parse is StoreCorruptError. Missing file → empty.
 */
export async function readTail(file: string, limit: number): Promise<TailResult> {
  const { values, tornBytes, stopped } = await readBackUntil(file, () => false, Math.max(0, limit));
  return { values, complete: !stopped, tornBytes };
}

/**
 * Records of a JSONL file read from the last towards the first, stopping at the first one
 * for which `stop` is true (not included): the end of a file, newest first, without reading
 * what lies before. Returned oldest first. A torn last line is skipped (counted in
 * `tornBytes`); a line that doesn't parse is StoreCorruptError. Missing file → empty.
 * At most `limit` records (the ones before are not parsed). `stopped`: whether `stop` or the
 * limit ended the reading (there is more before).
 */
export async function readBackUntil(file: string, stop: (value: unknown) => boolean, limit = Infinity): Promise<{ values: unknown[]; tornBytes: number; stopped: boolean }> {
  let fh: FileHandle;
  try {
    fh = await open(file, "r");
  } catch (error) {
    if (isMissing(error)) return { values: [], tornBytes: 0, stopped: false };
    throw error;
  }
  try {
    const { size } = await fh.stat();
    const values: unknown[] = [];
    if (size === 0) return { values, tornBytes: 0, stopped: false };
    const cleanEnd = (await readAt(fh, size - 1, 1))[0] === NEWLINE;
    let tornBytes = 0;
    let first = true;
    for await (const seg of segmentsBackward(fh, cleanEnd ? size - 1 : size)) {
      if (first && !cleanEnd) {
        first = false;
        tornBytes = seg.bytes.length;
        continue;
      }
      first = false;
      if (values.length >= limit) {
        values.reverse();
        return { values, tornBytes, stopped: true };
      }
      let value: unknown;
      try {
        value = JSON.parse(seg.bytes.toString("utf8"));
      } catch (error) {
        throw new StoreCorruptError(file, `the line at byte ${seg.offset} is not valid JSON: ${(error as Error).message}`, { cause: error });
      }
      if (stop(value)) {
        values.reverse();
        return { values, tornBytes, stopped: true };
      }
      values.push(value);
    }
    values.reverse();
    return { values, tornBytes, stopped: false };
  } finally {
    await fh.close();
  }
}

/** The first record of a JSONL file (undefined when it is empty, missing, or holds only a torn line). */
export async function readFirst(file: string): Promise<unknown> {
  let fh: FileHandle;
  try {
    fh = await open(file, "r");
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  try {
    let carry: Buffer = Buffer.alloc(0);
    for (let pos = 0; ; ) {
      const chunk = await readAt(fh, pos, BACKWARD_CHUNK);
      if (chunk.length === 0) return undefined;
      pos += chunk.length;
      carry = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      const nl = carry.indexOf(NEWLINE);
      if (nl === -1) continue;
      try {
        return JSON.parse(carry.toString("utf8", 0, nl));
      } catch (error) {
        throw new StoreCorruptError(file, `line 1 is not valid JSON: ${(error as Error).message}`, { cause: error });
      }
    }
  } finally {
    await fh.close();
  }
}
