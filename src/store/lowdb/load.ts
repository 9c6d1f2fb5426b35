/**
 * The read half of opening the lowdb store: `state.json`, `state.log` and `MANIFEST` are read,
 * replayed and checked against each other, and nothing is written. Kept apart from index.ts
 * so that "open refuses with every file as it was" is visible in one place: whatever this
 * throws, the directory is untouched (see generations.ts for the checks).
 */
import { join } from "node:path";
import { Low } from "lowdb";
import { ChatflowError } from "../../errors.ts";
import { checkGenerations, readManifest, type Manifest } from "./generations.ts";
import type { Quarantined } from "./quarantine.ts";
import { SnapshotFile } from "./snapshot.ts";
import type { LogScan, StateLog } from "./state-log.ts";
import { emptyState, State, toLogRecord, UnusableRecord, type LogRecord, type StateData } from "./state.ts";
import { describeOsError } from "./write-health.ts";

export interface Loaded {
  snapshotFile: string;
  manifestFile: string;
  low: Low<StateData>;
  snapshot: SnapshotFile;
  state: State;
  scan: LogScan;
  manifest: Manifest | undefined;
  /** Records left out of the state because they can't be used (to be saved in quarantine/). */
  quarantined: Quarantined[];
  /** What was accepted without a MANIFEST, to be logged once the open goes on. */
  notes: string[];
}

/**
 * Reads the main state of `dir` through `log` (not yet open for appending). Throws
 * StoreCorruptError (a file can't be read), StoreRolledBackError (the files went backwards),
 * or an fs error; writes nothing.
 */
export async function loadState(dir: string, log: StateLog, warn: (obj: object, msg: string) => void): Promise<Loaded> {
  const snapshotFile = join(dir, "state.json");
  const manifestFile = join(dir, "MANIFEST");
  const manifest = await readManifest(manifestFile, warn);
  const snapshot = new SnapshotFile(snapshotFile);
  const low = new Low<StateData>(snapshot, emptyState());
  await low.read();
  const state = new State(low.data);
  const quarantined: Quarantined[] = [...snapshot.lastRead.quarantined];
  const scan = await log.scan((value, line, text) => replay(state, value, { file: log.file, line, text }, quarantined));
  const notes = checkGenerations({
    dir,
    snapshotFile,
    logFile: log.file,
    manifestFile,
    snapshot: { exists: snapshot.lastRead.exists, gen: snapshot.lastRead.gen },
    log: { gen: scan.gen, bytes: scan.validBytes },
    manifest,
    feedSeqHigh: state.feedSeqHigh,
  });
  return { snapshotFile, manifestFile, low, snapshot, state, scan, manifest, quarantined, notes };
}

/** Where a log line came from, for the quarantine report. */
interface LineSource {
  file: string;
  line: number;
  text: string;
}

/**
 * Applies one replayed log line. A record of a known kind that can't be used is set aside
 * (with any older version of it the state held) instead of stopping the open; anything else
 * that is not a record throws (scanForward turns that into StoreCorruptError naming the line).
 */
function replay(state: State, value: unknown, from: LineSource, quarantined: Quarantined[]): void {
  let record: LogRecord;
  try {
    record = toLogRecord(value);
  } catch (error) {
    if (!(error instanceof UnusableRecord)) throw error;
    const previous = error.ref ? state.get(error.ref) : undefined;
    if (error.ref) state.set(error.ref, undefined);
    quarantined.push({ kind: error.kind, id: error.id, file: from.file, where: `line ${from.line}`, reason: error.message, raw: from.text, previous });
    return;
  }
  state.apply(record);
}

/** What open throws: ChatflowErrors as they are, anything else as a sentence naming the directory (no stack trace to read). */
export function openFailed(dir: string, error: unknown): unknown {
  if (error instanceof ChatflowError) return error;
  const path = (error as NodeJS.ErrnoException)?.path;
  return new ChatflowError(
    "store",
    `chatflow could not open the store at ${dir}: ${path ? `${path} can't be read or written` : "a file can't be used"} (${describeOsError(error)}). ` +
      `Check that the data directory and its files belong to the user running chatflow.`,
    { cause: error },
  );
}
