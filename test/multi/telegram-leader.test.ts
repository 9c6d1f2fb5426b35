/**
 * Telegram's long polling allows one poller per bot. Three chatflow processes on one
 * PostgreSQL database: one leads the polling, the others send only. The leader is SIGKILLed:
 * another instance polls within the lease, the fake never sees two pollers at once, and a
 * message sent meanwhile is answered once. (Requests 1, 5 and 7: the test workflow asks nothing
 * of numbers not divisible by 2 or 3.) The leader is killed once its task is stored as
 * completed: a kill in the instant between a post and its record may post twice, as documented.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { startFakeTelegram, type FakeTelegram } from "../fakes/telegram/server.ts";
import { freshDatabase, type TestDatabase } from "../postgres/database.ts";
import { allTasksCompleted, leadersOf, sleep } from "./leaders.ts";
import { Platform } from "./platform.ts";

const script = fileURLToPath(new URL("./instance.ts", import.meta.url));
const LEASE_SECONDS = 2;

let db: TestDatabase | undefined;
let dir: string | undefined;
let platform: Platform | undefined;
let fake: FakeTelegram | undefined;
afterAll(async () => {
  await platform?.close();
  await fake?.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("the polling leader is killed: another instance polls within the lease, never two at once, and messages are answered once", async () => {
  db = await freshDatabase();
  dir = await mkdtemp(path.join(tmpdir(), "chatflow-leader-"));
  fake = await startFakeTelegram();
  const tg = fake;
  platform = new Platform(script, {
    CHATFLOW_DATABASE_URL: db.url,
    MULTI_DIR: dir,
    MULTI_LEASE_SECONDS: String(LEASE_SECONDS),
    MULTI_TELEGRAM_API: tg.apiRoot,
    MULTI_TELEGRAM_TOKEN: tg.token,
    CHATFLOW_API_TOKENS: "watcher:watcher-token-0123456789",
  });
  const p = platform;
  for (const id of ["a", "b", "c"]) await p.spawn(id);
  // Who polls: the instances' health says which one leads.
  const leaderNow = () => leadersOf(p, "telegram:polling:");
  let leaders: string[] = [];
  for (let i = 0; i < 200 && leaders.length === 0; i++) {
    leaders = await leaderNow();
    if (leaders.length === 0) await sleep(50);
  }
  expect(leaders).toHaveLength(1);
  const first = leaders[0]!;

  // A message reaches the bot through the leader's poll.
  const answered = async (text: string) => {
    tg.userMessage({ text, chatId: 2001 });
    for (let i = 0; i < 600; i++) {
      if (tg.botMessages(2001).some((m) => m.text.includes(`result ${text.split(" ")[1]} `))) return;
      await sleep(50);
    }
    throw new Error(`no result for "${text}"`);
  };
  await answered("task 1");
  // Killed once its work is stored as done (see leaders.ts).
  await allTasksCompleted(db.url);
  const victim = p.instances.find((i) => i.id === first)!;
  const killedAt = Date.now();
  victim.child.kill("SIGKILL");
  await victim.exited;
  // Sent while nobody polls: the next leader receives it.
  tg.userMessage({ text: "task 5", chatId: 2001 });
  let next: string[] = [];
  while (next.length === 0) {
    expect(Date.now() - killedAt, "another instance leads within the lease and a renewal").toBeLessThan(LEASE_SECONDS * 1000 * 3 + 5000);
    next = await leaderNow();
    if (next.length === 0) await sleep(50);
  }
  expect(next).toHaveLength(1);
  expect(next[0]).not.toBe(first);
  for (let i = 0; i < 600 && !tg.botMessages(2001).some((m) => m.text.includes("result 5 ")); i++) await sleep(50);
  await answered("task 7");
  expect(tg.pollConflicts, "two pollers at once").toEqual([]);
  // Each request answered once.
  const results = tg.botMessages(2001).filter((m) => /^result \d+ /.test(m.text)).map((m) => m.text.split(" ")[1]);
  expect(results.sort()).toEqual(["1", "5", "7"]);
  console.log(`telegram leader: ${first} killed, ${next[0]} polled ${Date.now() - killedAt} ms later (lease ${LEASE_SECONDS} s)`);
}, 120_000);
