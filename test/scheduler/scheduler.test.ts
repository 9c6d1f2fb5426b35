import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createBot } from "../../src/app.ts";
import { ConfigError, PermissionError } from "../../src/errors.ts";
import { silentLogger } from "../../src/logger.ts";
import type { Schedule } from "../../src/store/records.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import type { Store } from "../../src/store/port.ts";
import { createRecordingAdapter } from "../../src/testing/recording-adapter.ts";
import { useTestBots, type TestBot } from "../helpers.ts";

const start = useTestBots(afterEach);
const MIN = 60_000;

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2027-01-04T08:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

/**
 * Moves the fake clock to `until`, jumping to just before each fire the scheduler has planned
 * (and each of `alsoAt`) instead of walking every tick of its one-second ticker: between fires a
 * tick does nothing, and a day of ticks takes many seconds on a busy machine. Every fire is
 * still made by a tick of the ticker, at its time.
 */
async function walkClock(t: TestBot, until: number, alsoAt: number[] = []): Promise<void> {
  // Bounded: a fire that never happens leaves its time planned, and the walk goes on past it.
  for (let step = 0; step < 20; step++) {
    const planned = (await t.bot.schedulerState()).schedules.flatMap((s) => (s.next ? [Date.parse(s.next)] : []));
    const next = Math.min(...planned.filter((at) => at > Date.now() - 1000), ...alsoAt.filter((at) => at > Date.now()));
    if (!(next <= until)) break;
    if (next - 2000 > Date.now()) vi.setSystemTime(next - 2000);
    await vi.advanceTimersByTimeAsync(3000);
  }
  if (until - 1000 > Date.now()) vi.setSystemTime(until - 1000);
  if (until > Date.now()) await vi.advanceTimersByTimeAsync(until - Date.now());
}

const posts = (t: { adapter: { sent: { message: { kind: string; text: string; key?: string } }[] } }) =>
  t.adapter.sent.filter((s) => s.message.key?.startsWith("sched:")).map((s) => s.message.text);

function stored(store: Store, over: Partial<Schedule>): Promise<void> {
  const now = Date.now();
  return store.createSchedule({
    id: "s1",
    rev: 1,
    cron: "* * * * *",
    timezone: "UTC",
    target: { platform: "test", channel: "c1", user: "alice" },
    text: "tick",
    enabled: true,
    missedPolicy: "skip",
    failures: 0,
    origin: "chat",
    createdAt: now - 60 * MIN,
    updatedAt: now,
    ...over,
  });
}

describe("scheduler", () => {
  it("/schedule add posts once per slot, into history as scheduled", async () => {
    const t = await start();
    await t.command("schedule", 'add "*/5 * * * *" Drink water');
    expect(t.replies().at(-1)).toMatch(/^Scheduled \S+ · "\*\/5 \* \* \* \*" UTC · next 2027-01-04 08:05 UTC · "Drink water"/);
    await vi.advanceTimersByTimeAsync(16 * MIN);
    expect(posts(t)).toEqual(["Drink water", "Drink water", "Drink water"]);
    const session = (await t.bot.listSessions()).items[0]!;
    const scheduled = (await t.store.listMessages(session.id, 50)).filter((m) => m.source === "scheduled");
    expect(scheduled).toHaveLength(3);
    const state = await t.bot.schedulerState();
    expect(state.running).toBe(true);
    expect(state.schedules[0]?.next).toBe("2027-01-04T08:20:00.000Z");
  });

  it("lists, pauses, resumes and removes from chat; only the maker or a reviewer may", async () => {
    const t = await start();
    await t.command("schedule", 'add "0 9 * * *" tz=Europe/Berlin missed=all Stand-up');
    const id = /Scheduled (\S+)/.exec(t.replies().at(-1)!)![1]!;
    await t.command("schedule", "list");
    expect(t.replies().at(-1)).toBe(`${id} · "0 9 * * *" Europe/Berlin · next 2027-01-05 08:00 UTC · "Stand-up"`);
    await t.command("schedule", `pause ${id}`, { user: "mallory" });
    expect(t.notices().at(-1)).toMatchObject({ text: expect.stringMatching(/only the person who made this schedule, or a reviewer/), alert: true });
    await t.command("schedule", `pause ${id}`);
    expect(t.replies().at(-1)).toMatch(/paused \(paused by alice\)/);
    await walkClock(t, Date.now() + 26 * 60 * MIN, [Date.parse("2027-01-05T08:00:00Z")]);
    expect(posts(t)).toEqual([]);
    await t.command("schedule", `resume ${id}`);
    expect(t.replies().at(-1)).toMatch(/next 2027-01-06 08:00 UTC/);
    await t.command("schedule", `remove ${id}`);
    expect(t.replies().at(-1)).toBe(`Removed schedule ${id}.`);
    expect(await t.store.listSchedules()).toHaveLength(0);
  });

  it("answers a bad cron expression or an unknown timezone with what is wrong, and stores nothing", async () => {
    const t = await start();
    await t.command("schedule", 'add "61 * * * *" hello');
    expect(t.replies().at(-1)).toMatch(/^Invalid cron expression "61 \* \* \* \*": Invalid value for minute: 61\..*Nothing was scheduled\.$/s);
    await t.command("schedule", 'add "0 9 * * *" tz=Mars/Base hello');
    expect(t.replies().at(-1)).toBe('Unknown timezone "Mars/Base": use an IANA name such as Europe/Berlin or America/New_York. Nothing was scheduled.');
    await t.command("schedule", "add 0 9 * * * hello");
    expect(t.replies().at(-1)).toMatch(/^Put the cron expression in quotes/);
    await t.command("schedule", 'add "0 9 * * *" missed=sometimes hello');
    expect(t.replies().at(-1)).toMatch(/Unknown missed-slot policy "sometimes"/);
    await t.command("schedule", 'add "0 9 * * *" /nope x');
    expect(t.replies().at(-1)).toMatch(/\/nope does not start a workflow here/);
    expect(await t.store.listSchedules()).toHaveLength(0);
  });

  it("runs a workflow on schedule; its result enters history as scheduled", async () => {
    const t = await start();
    await t.command("schedule", 'add "0 * * * *" /demo a short summary of the news');
    await vi.advanceTimersByTimeAsync(60 * MIN);
    const review = await t.expectSent("review");
    await t.press(review.actions![0]!.id);
    await vi.advanceTimersByTimeAsync(1000);
    const result = await t.expectSent("result");
    expect(result.text).toMatch(/^a short summary of the news: the essentials/);
    // The result enters history just after it is posted.
    await vi.advanceTimersByTimeAsync(1000);
    const session = (await t.bot.listSessions()).items[0]!;
    const history = await t.store.listMessages(session.id, 50);
    expect(history.at(-1)).toMatchObject({ source: "scheduled", role: "assistant", text: result.text });
    // The press that approved it is there too, as the maker's answer, before the result.
    expect(history.at(-2)).toMatchObject({ source: "user", role: "user", text: "Approved", user: "alice" });
  });

  it.each([
    ["skip", 0],
    ["latest", 1],
    ["all", 5],
  ] as const)("missed slots at start-up under %s: %i posts", async (policy, expected) => {
    const store = createMemoryStore();
    await stored(store, { missedPolicy: policy, lastSlot: Date.now() - 30 * MIN });
    const t = await start({ store, config: { scheduler: { maxCatchUp: 5 } } });
    await vi.advanceTimersByTimeAsync(10);
    expect(posts(t)).toHaveLength(expected);
    expect((await store.getSchedule("s1"))?.lastSlot).toBe(Date.parse("2027-01-04T08:00:00Z"));
  });

  it("pauses a schedule whose target is gone after maxFailures, with the reason, and stops trying", async () => {
    const adapter = createRecordingAdapter();
    const send = adapter.send.bind(adapter);
    let attempts = 0;
    adapter.send = async (address, message) => {
      if (message.key) {
        attempts++;
        throw new PermissionError("Forbidden: bot was blocked by the user");
      }
      return send(address, message);
    };
    const store = createMemoryStore();
    const bot = await createBot({ config: { scheduler: { maxFailures: 2 } }, store, adapters: [adapter], logger: silentLogger() });
    await bot.start();
    await stored(store, { lastSlot: Date.now(), missedPolicy: "all" });
    await stored(store, { id: "s2", lastSlot: Date.now(), target: { platform: "gone-adapter", channel: "x", user: "alice" } });
    await bot.stop();
    await bot.start();
    await vi.advanceTimersByTimeAsync(5 * MIN);
    expect(attempts).toBe(2);
    const s1 = (await store.getSchedule("s1"))!;
    expect(s1).toMatchObject({ enabled: false, failures: 2 });
    expect(s1.pausedReason).toMatch(/target is gone \(Forbidden: bot was blocked by the user\)/);
    expect((await store.getSchedule("s2"))?.pausedReason).toMatch(/No adapter is configured for platform "gone-adapter"/);
    await bot.stop();
  });

  it("a stored schedule it can't compute (a timezone this runtime doesn't know) is reported and skipped; the others fire and list", async () => {
    const store = createMemoryStore();
    await store.open();
    await stored(store, { id: "bad", timezone: "Mars/Olympus_Mons", lastSlot: Date.now() });
    await stored(store, { id: "good", text: "tick", lastSlot: Date.now() });
    await store.close();
    const t = await start({ store });
    await vi.advanceTimersByTimeAsync(2 * MIN);
    expect(posts(t)).toEqual(["tick", "tick"]);
    await t.command("schedule", "list");
    expect(t.replies().at(-1)).toMatch(/^bad · "\* \* \* \* \*" Mars\/Olympus_Mons · next never/);
    expect((await t.bot.schedulerState()).running).toBe(true);
  });

  it("refuses a bad schedule in the config file, naming the field", async () => {
    const config = { scheduler: { schedules: [{ id: "x", cron: "0 25 * * *", target: { platform: "console", channel: "local" }, text: "hi" }] } };
    await expect(createBot({ config, store: createMemoryStore(), adapters: [], logger: silentLogger() })).rejects.toThrow(ConfigError);
    await expect(createBot({ config, store: createMemoryStore(), adapters: [], logger: silentLogger() })).rejects.toThrow(/scheduler\.schedules\[0\] \(x\): Invalid cron expression "0 25 \* \* \*": Invalid value for hour/);
  });
});

describe("daylight saving time (Europe/Berlin)", () => {
  it.each([
    // The first valid time after the gap: 03:00 CEST.
    ["spring gap: 02:30 does not exist on 2027-03-28", "2027-03-27T12:00:00Z", "2027-03-28", "2027-03-28T01:00:00.000Z"],
    // The first of the two: 02:30 CEST.
    ["autumn repeat: 02:30 happens twice on 2027-10-31", "2027-10-30T12:00:00Z", "2027-10-31", "2027-10-31T00:30:00.000Z"],
  ])("%s: one fire that day", async (_name, from, day, firstValid) => {
    vi.setSystemTime(new Date(from));
    const t = await start({ config: { scheduler: { timezone: "Europe/Berlin" } } });
    await t.command("schedule", 'add "30 2 * * *" nightly');
    await walkClock(t, Date.parse(from) + 40 * 60 * MIN);
    const fires = t.adapter.sent.filter((s) => s.message.key?.startsWith("sched:"));
    const onDay = fires.filter((s) => new Intl.DateTimeFormat("sv-SE", { timeZone: "Europe/Berlin" }).format(new Date(Number(s.message.key!.split(":")[2]))) === day);
    expect(onDay).toHaveLength(1);
    const slot = Number(onDay[0]!.message.key!.split(":")[2]);
    expect(new Date(slot).toISOString()).toBe(firstValid);
    expect(onDay[0]!.at).toBeGreaterThanOrEqual(slot);
    expect(fires).toHaveLength(2);
  });
});
