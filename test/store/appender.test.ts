import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Appender } from "../../src/store/lowdb/appender.ts";

let dir = "";
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function setup(maxOpen = 8) {
  dir = await mkdtemp(join(tmpdir(), "chatflow-appender-"));
  const warnings: Array<{ obj: object; msg: string }> = [];
  const appender = new Appender({ maxOpen, fsync: false, kind: "history", warn: (obj, msg) => warnings.push({ obj, msg }) });
  return { appender, warnings, file: (name: string) => join(dir, name) };
}

/** This process's open file descriptors, where the OS shows them (Linux). */
async function openFds(): Promise<number | undefined> {
  return existsSync("/proc/self/fd") ? (await readdir("/proc/self/fd")).length : undefined;
}

describe("the lowdb appender (file handles kept open)", () => {
  it("appends in order through one handle, creating the file", async () => {
    const { appender, file } = await setup();
    for (let i = 0; i < 50; i++) await appender.append(file("a.jsonl"), `{"i":${i}}\n`);
    const lines = (await readFile(file("a.jsonl"), "utf8")).trim().split("\n");
    expect(lines).toHaveLength(50);
    expect(lines.at(-1)).toBe('{"i":49}');
    await appender.closeAll();
  });

  it("cuts a torn last line once, before the first append of a run, and says so", async () => {
    const { appender, warnings, file } = await setup();
    await writeFile(file("t.jsonl"), '{"i":1}\n{"i":2');
    await appender.append(file("t.jsonl"), '{"i":3}\n');
    await appender.append(file("t.jsonl"), '{"i":4}\n');
    expect(await readFile(file("t.jsonl"), "utf8")).toBe('{"i":1}\n{"i":3}\n{"i":4}\n');
    expect(warnings).toEqual([{ obj: { file: file("t.jsonl"), tornBytes: 6 }, msg: "dropped a torn last line of a history file (the process was stopped mid-write)" }]);
    await appender.closeAll();
  });

  it("after forget, appends go to the file that replaced the old one", async () => {
    const { appender, file } = await setup();
    await appender.append(file("r.jsonl"), '{"old":1}\n');
    await writeFile(file("r.jsonl.tmp"), '{"kept":1}\n');
    await appender.forget(file("r.jsonl"));
    await rename(file("r.jsonl.tmp"), file("r.jsonl"));
    await appender.append(file("r.jsonl"), '{"new":1}\n');
    expect(await readFile(file("r.jsonl"), "utf8")).toBe('{"kept":1}\n{"new":1}\n');
    await appender.closeAll();
  });

  it("keeps at most maxOpen files open, and every append still lands", async () => {
    const { appender, file } = await setup(8);
    const before = await openFds();
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 40 }, (_, i) => appender.append(file(`s${i}.jsonl`), `{"round":${round}}\n`)));
    }
    for (let i = 0; i < 40; i++) expect(await readFile(file(`s${i}.jsonl`), "utf8")).toBe('{"round":0}\n{"round":1}\n{"round":2}\n');
    const after = await openFds();
    // Idle handles beyond the limit are closed in the background: wait for the count to settle.
    if (before !== undefined && after !== undefined) {
      await expect.poll(async () => (await openFds())! - before, { timeout: 5_000 }).toBeLessThanOrEqual(8);
    }
    await appender.closeAll();
    if (before !== undefined) await expect.poll(openFds, { timeout: 5_000 }).toBeLessThanOrEqual(before);
  });

  it("a failed open rejects the append, and the next append tries again", async () => {
    const { appender, file } = await setup();
    const target = file("later/x.jsonl");
    await expect(appender.append(target, '{"i":1}\n')).rejects.toMatchObject({ code: "ENOENT" });
    await mkdir(file("later"));
    await appender.append(target, '{"i":2}\n');
    expect(await readFile(target, "utf8")).toBe('{"i":2}\n');
    await appender.closeAll();
  });
});
