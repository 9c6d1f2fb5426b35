/**
 * Low-level helpers for the store's append-only JSONL files (`state.log`, `history/*.jsonl`,
 * `feed/*.jsonl`).
 *
 * Every record is written as one line ending in `\n`, in a single write. So after a process
 * kill the only possible damage is a torn *last* line (no trailing newline): that is a crash
 * artifact, dropped with a warning. A bad line anywhere else is corruption: the readers either
 * refuse the file (StoreCorruptError, for `state.log`) or, given `onBad`, report the line and
 * skip it (history and feed files, which repair.ts then sets aside).
 */
import { open, type FileHandle } from "node:fs/promises";
import { StoreCorruptError } from "../../errors.ts";
import { yieldToLoop } from "./batch.ts";

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

/** A line that is not a valid record: where it is (1-based line number when known) and why. */
export interface BadLine {
  /** Byte offset of the line's first character. */
  offset: number;
  /** 1-based line number (forward scans only; backward readers don't know it). */
  line?: number;
  reason: string;
}

export interface ScanOptions {
  /**
   * Called for a line that doesn't parse or that `onRecord` rejects; the line is skipped and
   * the scan goes on. Without it such a line is StoreCorruptError.
   */
  onBad?: (bad: BadLine) => void;
}

/**
 * Reads a JSONL file front to back and hands each complete line, parsed, to `onRecord` (with
 * its 1-based number and its text). A line that doesn't parse, or that `onRecord` rejects by
 * throwing, is corruption: StoreCorruptError naming the file and the line, unless `onBad`
 * takes it. A missing file scans as empty. Yields to the event loop between 1 MiB chunks.
 */
export async function scanForward(file: string, onRecord: (value: unknown, line: number, text: string) => void, options: ScanOptions = {}): Promise<ScanResult> {
  let fh: FileHandle;
  try {
    fh = await open(file, "r");
  } catch (error) {
    if (isMissing(error)) return { validBytes: 0, tornBytes: 0 };
    throw error;
  }
  try {
    return await scanHandle(fh, (await fh.stat()).size, file, onRecord, options);
  } finally {
    await fh.close();
  }
}

/**
 * `scanForward` on a handle already open for reading, of a file `size` bytes long (`file`
 * names it in errors): lets an append handle check its file without opening it again.
 */
export async function scanHandle(
  fh: FileHandle,
  size: number,
  file: string,
  onRecord: (value: unknown, line: number, text: string) => void,
  options: ScanOptions = {},
): Promise<ScanResult> {
  let carry: Buffer = Buffer.alloc(0);
  let pos = 0;
  let validBytes = 0;
  let lineNo = 0;
  for (;;) {
    // Small files (most history and feed files) are read in one read of their size.
    const chunk = await readAt(fh, pos, Math.max(1, Math.min(FORWARD_CHUNK, size - pos)));
    if (chunk.length === 0) break;
    pos += chunk.length;
    const buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(NEWLINE, start); nl !== -1; nl = buf.indexOf(NEWLINE, start)) {
      lineNo++;
      const text = buf.toString("utf8", start, nl);
      try {
        onRecord(JSON.parse(text), lineNo, text);
      } catch (error) {
        if (!options.onBad) throw new StoreCorruptError(file, `line ${lineNo} is not a valid record: ${(error as Error).message}`, { cause: error });
        options.onBad({ offset: validBytes + start, line: lineNo, reason: (error as Error).message });
      }
      start = nl + 1;
    }
    validBytes += start;
    carry = Buffer.from(buf.subarray(start));
    if (chunk.length === FORWARD_CHUNK) await yieldToLoop();
  }
  return { validBytes, tornBytes: carry.length };
}

/** True when a line of the open file doesn't parse or fails `check` (a torn last line doesn't count). */
export async function hasBadLines(fh: FileHandle, size: number, file: string, check: (value: unknown) => void): Promise<boolean> {
  let bad = false;
  await scanHandle(fh, size, file, (value) => check(value), { onBad: () => (bad = true) });
  return bad;
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

export interface ReadOptions {
  /** Throws when a parsed line is not a valid record (it then counts as a bad line). */
  check?: (value: unknown) => void;
  /** Takes bad lines, which are then skipped; without it a bad line is StoreCorruptError. */
  onBad?: (bad: BadLine) => void;
}

/** Parses and checks one line; undefined (after `onBad`) for a bad one, which is thrown without `onBad`. */
function parseLine(file: string, text: string, offset: number, options: ReadOptions): { value: unknown } | undefined {
  try {
    const value: unknown = JSON.parse(text);
    options.check?.(value);
    return { value };
  } catch (error) {
    const reason = (error as Error).message;
    if (!options.onBad) throw new StoreCorruptError(file, `the line at byte ${offset} is not a valid record: ${reason}`, { cause: error });
    options.onBad({ offset, reason });
    return undefined;
  }
}

/**
 * The last `limit` records of a JSONL file, read backwards in chunks (never the whole file).
 * A torn last line is skipped; bad lines as `options` say. Missing file → empty.
 */
export async function readTail(file: string, limit: number, options: ReadOptions = {}): Promise<TailResult> {
  const { values, tornBytes, stopped } = await readBackUntil(file, () => false, Math.max(0, limit), options);
  return { values, complete: !stopped, tornBytes };
}

/**
 * Records of a JSONL file read from the last towards the first, stopping at the first one
 * for which `stop` is true (not included): the end of a file, newest first, without reading
 * what lies before. Returned oldest first. A torn last line is skipped (counted in
 * `tornBytes`); a bad line is StoreCorruptError, or skipped and handed to `options.onBad`.
 * Missing file → empty. At most `limit` records (the ones before are not parsed).
 * `stopped`: whether `stop` or the limit ended the reading (there is more before).
 */
export async function readBackUntil(
  file: string,
  stop: (value: unknown) => boolean,
  limit = Infinity,
  options: ReadOptions = {},
): Promise<{ values: unknown[]; tornBytes: number; stopped: boolean }> {
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
      const parsed = parseLine(file, seg.bytes.toString("utf8"), seg.offset, options);
      if (!parsed) continue;
      if (stop(parsed.value)) {
        values.reverse();
        return { values, tornBytes, stopped: true };
      }
      values.push(parsed.value);
    }
    values.reverse();
    return { values, tornBytes, stopped: false };
  } finally {
    await fh.close();
  }
}

/**
 * The first record of a JSONL file (undefined when it is empty, missing, or holds only a
 * torn line). Bad lines as `options` say: skipped lines make the next one the first.
 */
export async function readFirst(file: string, options: ReadOptions = {}): Promise<unknown> {
  let fh: FileHandle;
  try {
    fh = await open(file, "r");
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  try {
    let carry: Buffer = Buffer.alloc(0);
    let carryOffset = 0;
    for (let pos = 0; ; ) {
      const chunk = await readAt(fh, pos, BACKWARD_CHUNK);
      if (chunk.length === 0) return undefined;
      pos += chunk.length;
      carry = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      for (let nl = carry.indexOf(NEWLINE); nl !== -1; nl = carry.indexOf(NEWLINE)) {
        const parsed = parseLine(file, carry.toString("utf8", 0, nl), carryOffset, options);
        if (parsed) return parsed.value;
        carryOffset += nl + 1;
        carry = carry.subarray(nl + 1);
      }
    }
  } finally {
    await fh.close();
  }
}
