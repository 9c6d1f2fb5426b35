/**
 * Failed writes as sentences, and the store's write health.
 *
 * Why: a write that failed (a read-only `history/`, a full disk) used to reject with a bare
 * Node error, or not at all, and nothing told a health check. Every failed append now rejects
 * with a ChatflowError naming the file and the OS error code, and `WriteHealth` remembers the
 * last failure of each place until a later write to the same place succeeds, for
 * `Store.health()`.
 */
import { ChatflowError } from "../../errors.ts";

const REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EFBIG: "file too large",
  ENOTDIR: "a part of the path is not a directory",
  EISDIR: "it is a directory",
  EEXIST: "something else already exists at that path",
  ENOENT: "no such file or directory",
  EIO: "input/output error",
  EMFILE: "too many open files",
  ENFILE: "too many open files in the system",
  EBUSY: "the file is busy",
};

/** `CODE: what it means` for an fs error (the message of anything else). */
export function describeOsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === "string") return REASONS[code] ? `${code}: ${REASONS[code]}` : code;
  return error instanceof Error ? error.message : String(error);
}

/** True for the codes that mean "this directory can't be written". */
export function isNotWritable(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "EACCES" || code === "EPERM" || code === "EROFS";
}

/**
 * The error for a failed append: `what` names the file's role ("history file"), `lost` what
 * was not stored ("the message"). Already-ChatflowErrors pass through unchanged.
 */
export function writeFailed(what: string, file: string, lost: string, error: unknown): ChatflowError {
  if (error instanceof ChatflowError) return error;
  return new ChatflowError(
    "store",
    `chatflow could not write to the ${what} ${file} (${describeOsError(error)}), so ${lost} was not stored. ` +
      `Check that the data directory is writable by the user running chatflow and that the disk has space.`,
    { cause: error },
  );
}

/** The last failure of each place that writes (the state log, history, feed, snapshot, marks). */
export class WriteHealth {
  readonly #failures = new Map<string, { message: string; at: number }>();
  #seq = 0;

  /** Records a failure of `place`; it is reported until `ok(place)`. */
  fail(place: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.#failures.set(place, { message, at: ++this.#seq });
  }

  /** A write to `place` succeeded: its earlier failure is over. */
  ok(place: string): void {
    if (this.#failures.size > 0) this.#failures.delete(place);
  }

  /** ok: no place has an outstanding failure; error: the most recent one's sentence. */
  report(): { ok: boolean; error?: string } {
    let last: { message: string; at: number } | undefined;
    for (const f of this.#failures.values()) if (!last || f.at > last.at) last = f;
    return last ? { ok: false, error: last.message } : { ok: true };
  }
}
