import { afterEach, describe, expect, it } from "vitest";
import { ChatflowError } from "../../src/errors.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import type { Store } from "../../src/store/port.ts";
import { useTestBots } from "../helpers.ts";

/**
 * A /cancel handled just before a crash (its event not yet marked seen) is delivered again
 * after the restart: it must answer for the task it cancelled, not cancel the next one.
 */
const start = useTestBots(afterEach);

/** A memory store whose next claim of an event fails, as a process killed just before marking the event seen. */
function storeLosingOneClaim(): Store & { loseNextClaim(): void } {
  const store = createMemoryStore();
  let lose = false;
  return new Proxy(store, {
    get(target, property) {
      if (property === "loseNextClaim") return () => (lose = true);
      if (property === "claimEvent" && lose) {
        lose = false;
        return () => Promise.reject(new ChatflowError("store", "the process died here"));
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Store & { loseNextClaim(): void };
}

describe("a re-delivered /cancel", () => {
  it("cancels the task it was sent for once; the task queued behind it goes on", async () => {
    const store = storeLosingOneClaim();
    const t = await start({ store });
    await t.say("owls");
    await t.expectSent("question", "Which kind of answer");
    await t.command("demo", "a short summary of bats");
    const [second, first] = (await store.listTasks()).items;
    expect(second!.status).toBe("queued");

    const cancel = { kind: "command" as const, id: "cancel-1", address: { platform: "test", channel: "c1", user: "alice" }, name: "cancel", args: "" };
    store.loseNextClaim();
    expect((await t.bot.handle(cancel)).kind).toBe("failed");
    await t.waitForTask((task) => task.id === first!.id && task.status === "cancelled");
    await t.waitForTask((task) => task.id === second!.id && task.status !== "queued");
    // Delivered again, as after a restart: the second task is not touched.
    await t.bot.handle(cancel);
    await t.expectSent("review", "Publish this draft?");
    expect((await store.getTask(second!.id))!.status).toBe("waiting");
    expect((await store.getTask(second!.id))!.cancelRequested).toBeUndefined();
  });
});
