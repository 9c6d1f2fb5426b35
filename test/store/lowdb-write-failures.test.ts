/**
 * Failed writes are visible: the caller's promise rejects with a ChatflowError naming the
 * file and the OS error code, what was not written is not served (no cached message, no
 * changed state), and `health()` reports the failure until a later write to the same place
 * succeeds. Real failures only: a directory or file this process can't write (chmod, or the
 * immutable attribute as root), a history/ or feed/ that is a file, and a child process
 * under `ulimit -f` for the state log.
 */
import { spawn } from "node:child_process";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ChatflowError } from "../../src/errors.ts";
import type { Store } from "../../src/store/port.ts";
import { message, session } from "./contract.ts";
import { crashCopy, makeUnwritable, makeWritable, openStore, tempDir, useTempFiles } from "./fixtures/files.ts";

useTempFiles();

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");

/** The rejection of `write` (fails the test when it resolves). */
async function failure(write: Promise<unknown>): Promise<ChatflowError> {
  const error = await write.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChatflowError);
  return error as ChatflowError;
}

/**
 * Makes `path` refuse writes for real; where neither chmod nor chattr can (root on a
 * filesystem without the immutable attribute), a directory is replaced by a file (ENOTDIR).
 */
async function breakWrites(path: string, isDir: boolean): Promise<{ codes: RegExp; restore: () => Promise<void> }> {
  const how = await makeUnwritable(path);
  if (how) return { codes: /EACCES|EPERM/, restore: () => makeWritable(path) };
  if (!isDir) throw new Error(`no way to make ${path} unwritable here`);
  await rename(path, `${path}.moved`);
  await writeFile(path, "not a directory");
  return {
    codes: /ENOTDIR|EEXIST/,
    restore: async () => {
      await rm(path);
      await rename(`${path}.moved`, path);
    },
  };
}

describe("lowdb store: failed writes", () => {
  it("history: a message that can't be written rejects naming the file, is not served from the cache, and health says so until a write works", async () => {
    const dir = await tempDir();
    const first = await openStore(dir);
    await first.appendMessage(message("s1", 0));
    await first.close();
    // A new run: the cached tail comes from the file, no append handle is open yet.
    const store = await openStore(dir);
    expect((await store.listMessages("s1", 10)).map((m) => m.id)).toEqual(["s1-m0"]);
    const file = join(dir, "history", "s1.jsonl");
    const broken = await breakWrites(file, false);

    const error = await failure(store.appendMessage(message("s1", 1)));
    expect(error.code).toBe("store");
    expect(error.message).toContain(file);
    expect(error.message).toMatch(broken.codes);
    expect(error.message).toMatch(/the message was not stored/);
    // Before the fix: served from the tail cache, gone after a restart.
    expect((await store.listMessages("s1", 10)).map((m) => m.id)).toEqual(["s1-m0"]);
    expect(store.health!()).toEqual({ ok: false, error: error.message });

    // A new session's file can't be created in a history/ that can't be written either.
    const historyDir = join(dir, "history");
    await broken.restore();
    const brokenDir = await breakWrites(historyDir, true);
    const created = await failure(store.appendMessage(message("s2", 0)));
    expect(created.message).toContain(join(historyDir, "s2.jsonl"));
    expect(created.message).toMatch(brokenDir.codes);
    expect(await store.listMessages("s2", 10)).toEqual([]);
    await brokenDir.restore();

    await store.appendMessage(message("s1", 2));
    expect(store.health!()).toEqual({ ok: true });
    expect((await store.listMessages("s1", 10)).map((m) => m.id)).toEqual(["s1-m0", "s1-m2"]);
    const reopened = await openStore(await crashCopy(dir));
    expect((await reopened.listMessages("s1", 10)).map((m) => m.id)).toEqual(["s1-m0", "s1-m2"]);
    expect(await reopened.listMessages("s2", 10)).toEqual([]);
  });

  it("feed: events that can't be written reject naming the file and are not read back", async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    await mkdir(join(dir, "feed"));
    const broken = await breakWrites(join(dir, "feed"), true);
    const event = { type: "message", sessionId: "s1", at: 1, data: {} };
    const error = await failure(store.appendFeedEvents([event]));
    expect(error.code).toBe("store");
    expect(error.message).toContain(join(dir, "feed", "s1.jsonl"));
    expect(error.message).toMatch(broken.codes);
    expect(await store.readFeed()).toEqual([]);
    expect(store.health!().ok).toBe(false);
    await broken.restore();
    const [stored] = await store.appendFeedEvents([event]);
    expect((await store.readFeed()).map((e) => e.seq)).toEqual([stored!.seq]);
    expect(store.health!()).toEqual({ ok: true });
  });

  it("state log: a change that can't be written (a real EFBIG in a child under ulimit -f) rejects naming state.log and is undone in memory", async () => {
    const dir = await tempDir();
    // 128 blocks of 512 bytes: no file of the child may grow past 64 KiB.
    const child = spawn("sh", ["-c", `ulimit -f 128 && exec "${process.execPath}" --import tsx "${join(here, "fixtures", "fill-log.ts")}" "${dir}"`], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.once("exit", r));
    expect(code, stderr).toBe(0);
    const out = JSON.parse(stdout.trim()) as {
      created: number;
      failed?: { id: string; code: string; message: string };
      failedIsChatflowError: boolean;
      failedSessionVisible: boolean;
      listed: number;
      update: string;
      task: { percent: number; rev: number };
      health: { ok: boolean; error?: string };
    };
    expect(out.created).toBeGreaterThan(50);
    expect(out.failedIsChatflowError).toBe(true);
    expect(out.failed!.code).toBe("store");
    expect(out.failed!.message).toContain(join(dir, "state.log"));
    expect(out.failed!.message).toContain("EFBIG");
    expect(out.failedSessionVisible).toBe(false);
    expect(out.listed).toBe(out.created);
    expect(out.update).toBe("store");
    expect(out.task).toMatchObject({ percent: 10, rev: 1 });
    expect(out.health).toEqual({ ok: false, error: expect.stringContaining(join(dir, "state.log")) });

    // What was acknowledged survives; what was refused is not there.
    const store: Store = await openStore(dir);
    expect((await store.listSessions({}, { limit: 1_000_000 })).items).toHaveLength(out.created);
    expect(await store.getSession(out.failed!.id)).toBeUndefined();
    expect(await store.getTask("t1")).toMatchObject({ percent: 10, rev: 1 });
    await store.createSession(session("after"));
    expect(store.health!()).toEqual({ ok: true });
  });
});
