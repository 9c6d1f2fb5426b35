/**
 * A one-second schedule on three chatflow processes sharing one PostgreSQL database: every
 * instance ticks, each slot is claimed in the database by one of them, and the instance that
 * posted the latest slot is SIGKILLed mid-run. Each of 100 consecutive slots is posted exactly
 * once (a slot pending at the kill is taken over, asking the platform first whether it was
 * posted), with no slot missing.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "../postgres/database.ts";
import { Platform, type Post } from "./platform.ts";

const script = fileURLToPath(new URL("./instance.ts", import.meta.url));
const SLOTS = Number(process.env.MULTI_SLOTS ?? 100);

let db: TestDatabase | undefined;
let dir: string | undefined;
let platform: Platform | undefined;
afterAll(async () => {
  await platform?.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it(`${SLOTS} slots of a one-second schedule across three instances, one killed mid-run: each slot posted once, none missing`, async () => {
  db = await freshDatabase();
  dir = await mkdtemp(path.join(tmpdir(), "chatflow-slots-"));
  platform = new Platform(script, { CHATFLOW_DATABASE_URL: db.url, MULTI_DIR: dir, MULTI_SCHEDULE: "1", CHATFLOW_API_TOKENS: "watcher:watcher-token-0123456789" });
  const p = platform;
  const posts = new Map<number, Post[]>();
  p.on("send", (post: Post) => {
    const key = post.message.key;
    if (post.address.channel !== "sched" || !key?.startsWith("sched:tick:")) return;
    const slot = Number(key.slice("sched:tick:".length));
    posts.set(slot, [...(posts.get(slot) ?? []), post]);
  });
  await p.spawn("a");
  await p.spawn("b");
  await p.spawn("c");
  const slots = () => [...posts.keys()].sort((x, y) => x - y);
  const waitSlots = async (n: number) => {
    while (posts.size < n) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  await waitSlots(Math.floor(SLOTS / 2));
  // Killed right after it posted: the instance that posted the latest slot.
  const latest = posts.get(slots().at(-1)!)!.at(-1)!;
  const victim = p.instances.find((i) => i.id === latest.from)!;
  victim.child.kill("SIGKILL");
  await victim.exited;
  await waitSlots(SLOTS + 1);
  const all = slots();
  const from = all[0]!;
  const counted = all.slice(0, SLOTS);
  // Consecutive seconds, none missing, each posted once.
  expect(counted).toEqual(Array.from({ length: SLOTS }, (_, i) => from + i * 1000));
  const twice = counted.filter((slot) => posts.get(slot)!.length !== 1);
  expect(twice, "slots posted more than once").toEqual([]);
  const by = new Map<string, number>();
  for (const slot of counted) for (const post of posts.get(slot)!) by.set(post.from, (by.get(post.from) ?? 0) + 1);
  console.log(`schedule slots: ${SLOTS} posted once each; by instance: ${[...by].map(([id, n]) => `${id} ${n}`).join(", ")}; killed ${victim.id}`);
}, 300_000);
