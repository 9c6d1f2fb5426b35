import { describe, expect, it } from "vitest";
import { createThrottler } from "../../adapters/telegram/throttle.ts";

type Call = { chat: unknown; n: number; at: number };

function harness(limits: { globalPerSecond: number; perChatIntervalMs: number; groupPerMinute: number }) {
  const calls: Call[] = [];
  const throttle = createThrottler(limits);
  const prev = (async (_method: string, payload: { chat_id?: unknown; n: number }) => {
    calls.push({ chat: payload.chat_id, n: payload.n, at: Date.now() });
    return { ok: true, result: true };
  }) as never;
  const call = (chat: unknown, n: number) => throttle(prev, "sendMessage", { chat_id: chat, n } as never, undefined as never);
  return { calls, call };
}

describe("telegram throttler (p-queue sliding windows)", () => {
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
});
