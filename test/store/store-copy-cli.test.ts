/**
 * `chatflow store copy --from <dir> --to postgres`, run as a person would: a lowdb bot's data
 * into PostgreSQL, the counts said, and a second run that changes nothing.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { createLowdbStore } from "../../src/store/lowdb/index.ts";
import { createPostgresStore } from "../../src/store/postgres/index.ts";
import { freshDatabase, type TestDatabase } from "../postgres/database.ts";
import { message, session, task } from "./contract.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
let db: TestDatabase | undefined;
let dir: string | undefined;
afterAll(async () => {
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], { cwd: root, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

it("copies a lowdb directory into PostgreSQL, says the counts, and a second run changes nothing", async () => {
  db = await freshDatabase();
  dir = await mkdtemp(path.join(tmpdir(), "chatflow-copy-cli-"));
  const source = createLowdbStore({ dir });
  await source.open();
  await source.createSession(session("s1"));
  for (let i = 0; i < 3; i++) await source.appendMessage(message("s1", i));
  await source.createTask(task("t1", { sessionId: "s1", status: "waiting", waiting: { kind: "ask", key: "ask#0", question: "Which?", choices: ["a", "b"], token: "tok", askedAt: 1 } }));
  await source.close();
  const env = { CHATFLOW_DATABASE_URL: db.url };
  const first = await cli(["store", "copy", "--from", dir, "--to", "postgres"], env);
  expect(first.stderr).toBe("");
  expect(first.code).toBe(0);
  expect(first.stdout).toMatch(/Copied .* into PostgreSQL \(schema chatflow\): 1 sessions, 3 messages, 1 tasks, .*The counts on both sides match\./);
  expect(first.stdout).not.toContain(db.url);
  const second = await cli(["store", "copy", "--from", dir, "--to", "postgres"], env);
  expect(second.code).toBe(0);
  expect(second.stdout.split("\n")[0]!.replace(dir, "")).toBe(first.stdout.split("\n")[0]!.replace(dir, ""));
  const target = createPostgresStore({ url: db.url });
  await target.open();
  try {
    expect((await target.getTask("t1"))?.waiting?.question).toBe("Which?");
    expect(await target.listMessages("s1", 10)).toHaveLength(3);
  } finally {
    await target.close();
  }
}, 60_000);

it("says what is missing: no --from, another target, no database URL", async () => {
  const noFrom = await cli(["store", "copy", "--to", "postgres"], {});
  expect(noFrom.code).toBe(1);
  expect(noFrom.stderr).toContain("--from <dir>");
  const other = await cli(["store", "copy", "--from", "data", "--to", "mysql"], {});
  expect(other.stderr).toContain("--to mysql: the one target is postgres");
  const noUrl = await cli(["store", "copy", "--from", "data", "--to", "postgres"], { CHATFLOW_DATABASE_URL: "", DATABASE_URL: "" });
  expect(noUrl.stderr).toMatch(/set CHATFLOW_DATABASE_URL \(or DATABASE_URL\)/);
  const badStore = await cli(["start", "--store", "mongo"], {});
  expect(badStore.code).toBe(1);
  expect(badStore.stderr).toContain("--store mongo: choose one of lowdb, postgres, memory");
}, 60_000);
