import { afterEach, describe, expect, it } from "vitest";
import { ChatflowError } from "../../src/errors.ts";
import { faultyStore } from "../faulty-store.ts";
import { useTestBots } from "../helpers.ts";

/**
 * A /cancel handled just before a crash (its event not yet marked seen) is delivered again
 * after the restart: it must answer for the task it cancelled, not cancel the next one.
 */
const start = useTestBots(afterEach);

describe("a re-delivered /cancel", () => {
  it("cancels the task it was sent for once; the task queued behind it goes on", async () => {
    const { store, around } = faultyStore();
    const t = await start({ store });
    await t.say("owls");
    await t.expectSent("question", "Which kind of answer");
    await t.command("demo", "a short summary of bats");
    const [second, first] = (await store.listTasks()).items;
    expect(second!.status).toBe("queued");

    const cancel = { kind: "command" as const, id: "cancel-1", address: { platform: "test", channel: "c1", user: "alice" }, name: "cancel", args: "" };
    // The process dies just before marking the event seen.
    around.set("claimEvent", () => {
      around.delete("claimEvent");
      return Promise.reject(new ChatflowError("store", "the process died here"));
    });
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
