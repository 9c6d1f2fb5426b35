/**
 * Setting aside a history or feed file that holds bad lines.
 *
 * Why: a garbage line inside `history/<id>.jsonl` or `feed/<id>.jsonl` (a disk error, a hand
 * edit, a second process) used to break that session for good, and new records went on being
 * appended after it. Instead, the file is kept exactly as it was under
 * `<id>.jsonl.corrupt-<time>` (for whoever investigates; chatflow never reads or changes it
 * again), and a fresh `<id>.jsonl` holding the readable records, in order, takes its place, so
 * everything that was readable stays readable and new records never follow a bad line. The
 * readers skip bad lines meanwhile. A torn last line alone is not corruption (see jsonl.ts).
 *
 * Crash safety: the fresh file is written to a temp file first, the original is hard-linked
 * (or copied) to its new name, and only then is the temp renamed over the original, so a kill
 * at any point leaves the original or the fresh file in place, never neither.
 */
import { constants } from "node:fs";
import { copyFile, link, rename, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { randomBytes } from "node:crypto";
import { ChatflowError } from "../../errors.ts";
import type { AppendCheck } from "./appender.ts";
import { fsyncDir, hasBadLines, scanForward, type BadLine } from "./jsonl.ts";
import { describeOsError } from "./write-health.ts";

export interface RepairOptions {
  /** "history" or "feed": names the file in sentences. */
  kind: string;
  /** Throws (with the reason) when a parsed line is not a valid record. */
  check: (value: unknown) => void;
  fsync: boolean;
  warn: (obj: object, msg: string) => void;
}

export interface RepairResult {
  /** Where the original went. */
  aside: string;
  bad: BadLine[];
  /** Records kept in the fresh file. */
  kept: number;
}

/** At most this many bad lines are named in the warning. */
const NAMED_LINES = 10;

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, "-");
}

/**
 * Checks every line of `file`. When some are bad, sets the file aside (see above) and
 * resolves what was done; resolves undefined when the file is fine or missing. Must run while
 * nothing appends to the file. Throws a ChatflowError sentence when the file can't be set
 * aside (e.g. a read-only directory): callers then must not append to it.
 */
export async function repairJsonl(file: string, o: RepairOptions): Promise<RepairResult | undefined> {
  const good: string[] = [];
  const bad: BadLine[] = [];
  await scanForward(
    file,
    (value, _line, text) => {
      o.check(value);
      good.push(text);
    },
    { onBad: (b) => bad.push(b) },
  );
  if (bad.length === 0) return undefined;
  const named = bad
    .slice(0, NAMED_LINES)
    .map((b) => `line ${b.line}: ${b.reason}`)
    .join("; ");
  const more = bad.length > NAMED_LINES ? ` and ${bad.length - NAMED_LINES} more` : "";
  let aside = `${file}.corrupt-${stamp()}`;
  const tmp = `${file}.repair.tmp`;
  try {
    await writeFile(tmp, good.length > 0 ? `${good.join("\n")}\n` : "", { flush: o.fsync });
    try {
      await link(file, aside);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EEXIST") aside = `${aside}-${randomBytes(3).toString("hex")}`;
      // Filesystems without hard links: a copy (never over an existing file).
      if (code === "EEXIST" || code === "EPERM" || code === "ENOTSUP" || code === "EXDEV") await copyFile(file, aside, constants.COPYFILE_EXCL);
      else throw error;
    }
    await rename(tmp, file);
    if (o.fsync) await fsyncDir(dirname(file));
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw new ChatflowError(
      "store",
      `The ${o.kind} file ${file} has lines that can't be read (${named}${more}), and chatflow could not set it aside (${describeOsError(error)}). ` +
        `Nothing is appended to it until it is: make the directory writable, or move the file away.`,
      { cause: error },
    );
  }
  o.warn(
    { file, aside, badLines: bad.map((b) => b.line), kept: good.length },
    `the ${o.kind} file ${file} had lines that can't be read (${named}${more}): kept it unchanged as ${aside} and continued in a fresh ${file} with its ${good.length} readable records`,
  );
  return { aside, bad, kept: good.length };
}

/**
 * The bad-line guard of one kind of JSONL file (history or feed): before the first append to a
 * file in a run, the whole file is checked once (`appendCheck`, for the Appender), and a file
 * holding a bad line is set aside (`repair`) so nothing is ever appended after it. A repair
 * that fails is said once per file, not at every append it refuses.
 */
export class CleanAppends {
  readonly #o: RepairOptions;
  /** Files checked (or repaired) in this run: later appends skip the check. */
  readonly #checked = new Set<string>();
  /** Files whose repair failed and was said. */
  readonly #unrepaired = new Set<string>();

  constructor(options: RepairOptions) {
    this.#o = options;
  }

  readonly appendCheck: AppendCheck = {
    isClean: async (file, fh, size) => {
      if (this.#checked.has(file)) return true;
      const clean = !(await hasBadLines(fh, size, file, this.#o.check));
      if (clean) this.#checked.add(file);
      return clean;
    },
    setAside: (file) => this.repair(file),
  };

  /** Sets `file` aside if it holds bad lines; throws when that is needed and fails. No I/O slot of its own: callers hold one. */
  async repair(file: string): Promise<void> {
    try {
      this.#checked.delete(file);
      await repairJsonl(file, this.#o);
      this.#checked.add(file);
      this.#unrepaired.delete(file);
    } catch (error) {
      if (!this.#unrepaired.has(file)) {
        this.#unrepaired.add(file);
        this.#o.warn({ file }, (error as Error).message);
      }
      throw error;
    }
  }
}
