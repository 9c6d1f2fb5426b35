import { afterEach, describe, expect, it } from "vitest";
import { deadlineSignal } from "../../adapters/telegram/client.ts";
import { createThrottler } from "../../adapters/telegram/throttle.ts";
import { NetworkError } from "../../src/errors.ts";
import { startFakeTelegram } from "../fakes/telegram/server.ts";
import { aliceAddress, ALICE, cleanupList, telegramAdapterFor } from "./telegram-setup.ts";

type Call = { chat: unknown; n: number; at: number };

function harness(limits: { globalPerSecond: number; perChatIntervalMs: number; groupPerMinute: number }) {
  const calls: Call[] = [];
  const throttle = createThrottler(limits);
  const prev = (async (_method: string, payload: { chat_id?: unknown; n: number }) => {
    calls.push({ chat: payload.chat_id, n: payload.n, at: Date.now() });
    return { ok: true, result: true };
  }) as never;
  const call = (chat: unknown, n: number, signal?: AbortSignal) => throttle(prev, "sendMessage", { chat_id: chat, n } as never, signal as never);
  return { calls, call };
}

const cleanup = cleanupList();
afterEach(() => cleanup.run());

describe("telegram throttler (sliding windows)", () => {
  it("spaces calls to one chat by perChatIntervalMs, in order, while other chats go in parallel", async () => {
    const { calls, call } = harness({ globalPerSecond: 1000, perChatIntervalMs: 100, groupPerMinute: 1000 });
    await Promise.all([...[1, 2, 3, 4].map((n) => call(7, n)), ...[1, 2, 3, 4].map((n) => call(8, n))]);
    for (const chat of [7, 8]) {
      const mine = calls.filter((c) => c.chat === chat);
      expect(mine.map((c) => c.n)).toEqual([1, 2, 3, 4]);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.at - mine[i - 1]!.at).toBeGreaterThanOrEqual(95);
    }
    // The chats go in parallel: chat 8 is not queued behind chat 7.
    const at = (chat: number, n: number) => calls.find((c) => c.chat === chat && c.n === n)!.at;
    expect(at(8, 1)).toBeLessThan(at(7, 2));
  });

  it("caps calls across chats at globalPerSecond and a group at groupPerMinute", async () => {
    const global = harness({ globalPerSecond: 4, perChatIntervalMs: 0, groupPerMinute: 1000 });
    void Promise.all(Array.from({ length: 8 }, (_, i) => global.call(100 + i, i)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(global.calls).toHaveLength(4);

    const group = harness({ globalPerSecond: 1000, perChatIntervalMs: 0, groupPerMinute: 3 });
    void Promise.all(Array.from({ length: 5 }, (_, i) => group.call(-100123, i)));
    await group.call(42, 99); // a private chat is not held up by the group
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(group.calls.filter((c) => c.chat === -100123)).toHaveLength(3);
    expect(group.calls.some((c) => c.chat === 42)).toBe(true);
  });

  it("lets calls without a chat through, counting them globally only", async () => {
    const { calls, call } = harness({ globalPerSecond: 1000, perChatIntervalMs: 1000, groupPerMinute: 20 });
    await Promise.all([call(undefined, 1), call(undefined, 2), call(undefined, 3)]);
    expect(calls.map((c) => c.n)).toEqual([1, 2, 3]);
  });

  it("a call waiting for its chat leaves its place when its signal aborts; the chat's next call keeps its turn", async () => {
    const { calls, call } = harness({ globalPerSecond: 1000, perChatIntervalMs: 150, groupPerMinute: 1000 });
    const controller = new AbortController();
    const first = call(7, 1);
    const second = call(7, 2, controller.signal);
    const third = call(7, 3);
    controller.abort(new Error("deadline"));
    await expect(second).rejects.toThrow("deadline");
    await Promise.all([first, third]);
    expect(calls.map((c) => c.n)).toEqual([1, 3]);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(145);
  });

  it("a call waiting for the global window leaves it when its signal aborts, and frees its chat", async () => {
    const { calls, call } = harness({ globalPerSecond: 1, perChatIntervalMs: 0, groupPerMinute: 1000 });
    await call(1, 1);
    const controller = new AbortController();
    const waiting = call(2, 2, controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort(new Error("deadline"));
    await expect(waiting).rejects.toThrow("deadline");
    // An already aborted signal is refused at once, without waiting for the window.
    await expect(call(2, 3, AbortSignal.abort(new Error("too late")))).rejects.toThrow("too late");
    expect(calls.map((c) => c.n)).toEqual([1]);
  });

  it("deadline signals: calls of one slice share one, which aborts with a TimeoutError once the deadline passed", async () => {
    const a = deadlineSignal(40);
    const b = deadlineSignal(40);
    expect(b).toBe(a);
    expect(deadlineSignal(41)).not.toBe(a);
    const started = Date.now();
    await new Promise((resolve) => a.addEventListener("abort", resolve, { once: true }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(39);
    expect((a.reason as Error).name).toBe("TimeoutError");
    // A new call after the abort gets a fresh signal.
    expect(deadlineSignal(40).aborted).toBe(false);
  });

  it("a send still waiting for its chat's turn when its deadline passes fails with NetworkError and is never sent; the chat goes on", async () => {
    const fake = await startFakeTelegram();
    cleanup.add(() => fake.close());
    const adapter = telegramAdapterFor(fake, { throttle: { globalPerSecond: 30, perChatIntervalMs: 700, groupPerMinute: 20 }, callTimeoutSeconds: 0.35 });
    await adapter.send(aliceAddress, { kind: "notice", text: "first" });
    const late = await adapter.send(aliceAddress, { kind: "notice", text: "second" }).catch((error: unknown) => error);
    expect(late).toBeInstanceOf(NetworkError);
    expect((late as Error).message).toMatch(/sendMessage in chat 1001 got no answer within 0.35 s/);
    // Once the chat's interval has passed, its next message goes out (nothing is stuck in the lane).
    await new Promise((resolve) => setTimeout(resolve, 500));
    await adapter.send(aliceAddress, { kind: "notice", text: "third" });
    expect(fake.botMessages(ALICE).map((m) => m.text)).toEqual(["first", "third"]);
    expect(fake.violations).toEqual([]);
  });
});
