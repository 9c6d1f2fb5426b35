/**
 * Discord sends every event to each gateway session of a shard, so of three chatflow processes
 * on one PostgreSQL database one holds the gateway and the others send over REST only. Slash
 * commands are answered once, wherever their tasks run; a question is answered by a press and
 * a review's Edit form opens with its draft, whichever instance posted them. The gateway's
 * leader is SIGKILLed (once its tasks are stored as completed: a kill between a post and its
 * record may post twice, as documented): another instance connects within the lease, the fake
 * never sees two sessions at once, and the next command is answered once.
 * The test workflow asks a question of even numbers and a review of multiples of 3.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { startFakeDiscord, type FakeDiscord } from "../fakes/discord/server.ts";
import { freshDatabase, type TestDatabase } from "../postgres/database.ts";
import { allTasksCompleted, leadersOf, sleep } from "./leaders.ts";
import { Platform } from "./platform.ts";

const script = fileURLToPath(new URL("./instance.ts", import.meta.url));
const LEASE_SECONDS = 2;

let db: TestDatabase | undefined;
let dir: string | undefined;
let platform: Platform | undefined;
let fake: FakeDiscord | undefined;
afterAll(async () => {
  await platform?.close();
  await fake?.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("one instance holds the gateway; killed, another connects within the lease, never two sessions at once, and commands are answered once", async () => {
  db = await freshDatabase();
  dir = await mkdtemp(path.join(tmpdir(), "chatflow-discord-leader-"));
  fake = await startFakeDiscord();
  const dc = fake;
  platform = new Platform(script, {
    CHATFLOW_DATABASE_URL: db.url,
    MULTI_DIR: dir,
    MULTI_LEASE_SECONDS: String(LEASE_SECONDS),
    MULTI_DISCORD_API: dc.apiUrl,
    MULTI_DISCORD_TOKEN: dc.token,
    MULTI_DISCORD_GUILD: dc.guild.id,
  });
  const p = platform;
  for (const id of ["a", "b", "c"]) await p.spawn(id);
  const leaderNow = () =>
    leadersOf(p, "discord:gateway:", (health) => expect(health.adapters.discord?.connected, `${health.instance.id}: the adapter sends whether or not it leads`).toBe(true));
  const leading = async (): Promise<string> => {
    const since = Date.now();
    for (;;) {
      const leads = await leaderNow();
      expect(leads.length, "one leader at a time").toBeLessThanOrEqual(1);
      if (leads.length === 1 && dc.gatewayLive) return leads[0]!;
      expect(Date.now() - since, "a leader within the lease and a renewal").toBeLessThan(LEASE_SECONDS * 1000 * 3 + 5000);
      await sleep(50);
    }
  };
  const first = await leading();

  const results = () => dc.messages(dc.channel.id).filter((m) => /^result \d+ /.test(m.content)).map((m) => m.content.split(" ")[1]!);
  const command = (n: number) => dc.slashCommand({ name: "counted", user: dc.alice.id, options: { text: `task ${n}` } });
  const resultOf = (n: number) => dc.waitUntil(() => dc.messages(dc.channel.id).find((m) => m.content.startsWith(`result ${n} `)), 30_000, `the result of task ${n}`);

  command(1);
  await resultOf(1);
  // A question (task 2), answered by a press on whichever instance posted it.
  command(2);
  const question = await dc.waitUntil(() => dc.messages(dc.channel.id).find((m) => m.content.startsWith("Pick one")), 30_000, "task 2's question");
  dc.press({ user: dc.alice.id, messageId: question.id, label: "y" });
  expect((await resultOf(2)).content).toBe("result 2 y approved");
  // A review (task 3): its Edit form carries the draft, whoever posted the review.
  command(3);
  const review = await dc.waitUntil(() => dc.messages(dc.channel.id).find((m) => m.content.startsWith("Fine?")), 30_000, "task 3's review");
  const edit = dc.press({ user: dc.alice.id, messageId: review.id, label: "Edit" });
  const form = await dc.waitUntil(() => dc.modals.find((m) => m.interactionId === edit.interactionId), 10_000, "the Edit form");
  expect(JSON.stringify(form.components)).toContain('"value":"draft 3"');
  dc.submitModal({ interaction: edit.interactionId, values: { draft: "draft 3, edited" } });
  expect((await resultOf(3)).content).toBe("result 3 none approved");

  // Killed once its work is stored as done (see above).
  await allTasksCompleted(db.url);
  const victim = p.instances.find((i) => i.id === first)!;
  const killedAt = Date.now();
  victim.child.kill("SIGKILL");
  await victim.exited;
  const next = await leading();
  expect(next).not.toBe(first);
  const tookOver = Date.now() - killedAt;
  command(7);
  await resultOf(7);

  expect(dc.gatewayOverlaps, "two gateway sessions at once").toEqual([]);
  expect(results().sort()).toEqual(["1", "2", "3", "7"]);
  expect(dc.failedInteractions.map((i) => i.id), "interactions Discord would show as failed").toEqual([]);
  expect(dc.violations).toEqual([]);
  console.log(`discord gateway leader: ${first} killed, ${next} connected ${tookOver} ms later (lease ${LEASE_SECONDS} s)`);
}, 120_000);
