/**
 * Records the store already holds but can't use (nested thousands of levels deep, wrongly
 * shaped) are set aside at open, reported with their kind and id, kept in quarantine/, and
 * never stop the start or a listing of the others. The files are written by hand, in the
 * format of the version before generation marks, as an older chatflow would have left them.
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jsonDepthExceeds, MAX_NESTING_BELOW_RECORD, tooDeepToStore } from "../../src/store/json-depth.ts";
import { session, task } from "./contract.ts";
import { openStore, recordingLogger, tempDir, useTempFiles } from "./fixtures/files.ts";
import { schedule } from "./schedule-contract.ts";

useTempFiles();

/** A schedule whose input is `levels` arrays inside each other, as JSON text (JSON.stringify can't write it past ~8,000). */
function deepScheduleJson(id: string, levels: number): string {
  const plain = JSON.stringify(schedule(id, { workflow: "demo", input: 0 }));
  return plain.replace(`"input":0`, `"input":${"[".repeat(levels)}${"]".repeat(levels)}`);
}

const line = (record: unknown) => `${JSON.stringify(record)}\n`;

async function quarantineLines(dir: string): Promise<Array<Record<string, unknown>>> {
  const names = (await readdir(join(dir, "quarantine"))).filter((n) => n.endsWith(".jsonl"));
  const out: Array<Record<string, unknown>> = [];
  for (const name of names) {
    for (const l of (await readFile(join(dir, "quarantine", name), "utf8")).trim().split("\n")) out.push(JSON.parse(l));
  }
  return out;
}

describe("json-depth", () => {
  it("measures depth without recursion, also far beyond the call stack", () => {
    expect(jsonDepthExceeds(1, 0)).toBe(false);
    expect(jsonDepthExceeds({}, 0)).toBe(true);
    expect(jsonDepthExceeds({ a: [1, { b: 2 }] }, 3)).toBe(false);
    expect(jsonDepthExceeds({ a: [1, { b: 2 }] }, 2)).toBe(true);
    const deep = JSON.parse("[".repeat(200_000) + "]".repeat(200_000));
    expect(jsonDepthExceeds(deep, 64)).toBe(true);
    expect(jsonDepthExceeds(deep, 300_000)).toBe(false);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(jsonDepthExceeds(cyclic, 1000)).toBe(true);
    expect(MAX_NESTING_BELOW_RECORD).toBe(64);
    expect(tooDeepToStore({ input: JSON.parse("[".repeat(64) + "]".repeat(64)) })).toBe(false);
    expect(tooDeepToStore({ input: JSON.parse("[".repeat(65) + "]".repeat(65)) })).toBe(true);
  });
});

describe("lowdb store: records that can't be used", () => {
  it("a schedule nested 4,000 levels deep in state.log is set aside; the others load and list", async () => {
    const dir = await tempDir();
    const snapshot = { version: 1, sessions: [session("s1"), session("s2")], tasks: [task("t1")], journal: [], outbox: [], schedules: [schedule("a")], feedSeq: 0, events: [] };
    await writeFile(join(dir, "state.json"), JSON.stringify(snapshot));
    const deepLine = `{"t":"schedule","v":${deepScheduleJson("deep", 4_000)}}`;
    await writeFile(join(dir, "state.log"), line({ t: "schedule", v: schedule("b", { createdAt: 1_700_000_000_001 }) }) + `${deepLine}\n` + line({ t: "session", v: session("s3") }));

    const logger = recordingLogger();
    const store = await openStore(dir, { logger });
    // Before the fix: RangeError (Maximum call stack size exceeded) on every call.
    expect((await store.listSchedules()).map((s) => s.id)).toEqual(["a", "b"]);
    expect(await store.getSchedule("deep")).toBeUndefined();
    expect((await store.listSessions()).items.map((s) => s.id).sort()).toEqual(["s1", "s2", "s3"]);
    expect(await store.getTask("t1")).toEqual(task("t1"));

    const warning = logger.warnings.find((w) => w.obj.id === "deep");
    expect(warning?.obj.kind).toBe("schedule");
    expect(warning?.msg).toContain(`the schedule "deep"`);
    expect(warning?.msg).toContain(join(dir, "state.log"));
    expect(warning?.msg).toContain("line 2");
    expect(warning?.msg).toMatch(/nests more than 64 levels deep/);
    // Kept, never deleted silently: the line exactly as it was on disk.
    const [kept] = await quarantineLines(dir);
    expect(kept).toMatchObject({ kind: "schedule", id: "deep", file: join(dir, "state.log"), where: "line 2", line: deepLine });

    // The open compacted it out of the live files; the next start has nothing to set aside.
    await store.close();
    expect(await readFile(join(dir, "state.json"), "utf8")).not.toContain('"deep"');
    expect(await readFile(join(dir, "state.log"), "utf8")).not.toContain('"deep"');
    const again = recordingLogger();
    const reopened = await openStore(dir, { logger: again });
    expect((await reopened.listSchedules()).map((s) => s.id)).toEqual(["a", "b"]);
    expect(again.warnings).toEqual([]);
  });

  it("records in state.json that can't be used are set aside and the file is copied to quarantine/ as it was", async () => {
    const dir = await tempDir();
    const text = JSON.stringify({
      version: 1,
      sessions: [{ id: 1, key: "k" }, session("s1")],
      tasks: [task("t1"), { ...task("t2"), rev: "two" }],
      journal: [["t1", "step#0", { value: 1, at: 1 }], ["t1", "bad", 7]],
      outbox: [],
      schedules: [schedule("a")],
      feedSeq: 0,
      events: [["ev", 9_999_999_999_999], ["broken"]],
    }).replace(`"schedules":[`, `"schedules":[${deepScheduleJson("deep", 5_000)},`);
    await writeFile(join(dir, "state.json"), text);
    const logger = recordingLogger();
    const store = await openStore(dir, { logger });

    expect((await store.listSchedules()).map((s) => s.id)).toEqual(["a"]);
    expect((await store.listSessions()).items.map((s) => s.id)).toEqual(["s1"]);
    expect((await store.listTasks()).items.map((t) => t.id)).toEqual(["t1"]);
    expect([...(await store.getJournal("t1")).keys()]).toEqual(["step#0"]);
    expect(await store.hasEvent("ev")).toBe(true);
    const named = logger.warnings.filter((w) => w.obj.quarantine !== undefined).map((w) => [w.obj.kind, w.obj.id ?? null, w.obj.where]);
    expect(named).toEqual([
      ["session", null, "sessions[0]"],
      ["task", "t2", "tasks[1]"],
      ["journal", "t1/bad", "journal[1]"],
      ["schedule", "deep", "schedules[0]"],
      ["dedupe key", "broken", "events[1]"],
    ]);
    const lines = await quarantineLines(dir);
    expect(lines.map((l) => l.id ?? null)).toEqual([null, "t2", "t1/bad", "deep", "broken"]);
    const copy = (await readdir(join(dir, "quarantine"))).find((n) => n.endsWith(".state.json"))!;
    expect(lines[3]!.snapshotCopy).toBe(copy);
    expect(await readFile(join(dir, "quarantine", copy), "utf8")).toBe(text);
  });

  it("a log record that can't be used takes the older version of the same record with it, kept beside it", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "state.json"), JSON.stringify({ version: 1, sessions: [], tasks: [], journal: [], outbox: [], schedules: [schedule("x")], events: [] }));
    const bad = { t: "schedule", v: { id: "x", rev: 2, cron: 5 } };
    await writeFile(join(dir, "state.log"), line(bad) + line({ t: "schedule", v: schedule("y") }));
    const logger = recordingLogger();
    const store = await openStore(dir, { logger });
    expect((await store.listSchedules()).map((s) => s.id)).toEqual(["y"]);
    expect(logger.warnings.find((w) => w.obj.id === "x")?.msg).toMatch(/not a schedule/);
    const [kept] = await quarantineLines(dir);
    expect(kept).toMatchObject({ kind: "schedule", id: "x", where: "line 1", line: JSON.stringify(bad), previous: schedule("x") });
    // A later good version of a record set aside comes back.
    await store.createSchedule(schedule("x", { text: "again" }));
    expect((await store.getSchedule("x"))?.text).toBe("again");
  });
});
