import { afterEach, describe, expect, it } from "vitest";
import type { Address, OutboundMessage } from "../../src/model.ts";
import { defineWorkflow } from "../../src/tasks/workflow.ts";
import { useTestBots } from "../helpers.ts";

const start = useTestBots(afterEach);

describe("a status message the platform can no longer edit", () => {
  it("is posted anew by the adapter and edited under its new id from then on, also in the outbox", async () => {
    const slow = defineWorkflow({
      name: "slow",
      async run(ctx) {
        for (const percent of [20, 40, 60, 80]) {
          await ctx.progress(percent, `at ${percent}`);
          await ctx.step(`s${percent}`, () => new Promise((resolve) => setTimeout(resolve, 20)));
        }
        return { text: "done" };
      },
    });
    const t = await start({ workflows: [slow] });
    const edit = t.adapter.edit!.bind(t.adapter);
    const editedIds: string[] = [];
    let moved = false;
    // The first edit finds the message gone (an expired Discord interaction token): the adapter posts it anew.
    t.adapter.edit = async (address: Address, messageId: string, message: OutboundMessage) => {
      editedIds.push(messageId);
      if (!moved) {
        moved = true;
        return t.adapter.send(address, message);
      }
      return edit(address, messageId, message);
    };
    await t.say("go");
    await t.expectSent("result", "done");
    // The final state is shown once the task is stored as completed, just after the result.
    const deadline = Date.now() + 5000;
    while (t.adapter.edits.at(-1)?.message.progress?.state !== "completed") {
      if (Date.now() > deadline) throw new Error("the final state was never shown");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const task = (await t.store.listTasks()).items[0]!;
    const newId = (await t.store.getOutbox(task.id)).get("status")?.messageId;
    const statusPosts = t.adapter.sent.filter((s) => s.message.kind === "status").map((s) => s.id);
    expect(statusPosts).toHaveLength(2);
    expect(newId).toBe(statusPosts[1]);
    // After the move every edit went to the new message, the last one showing the end.
    expect(editedIds[0]).toBe(statusPosts[0]);
    expect(editedIds.slice(1).every((id) => id === newId)).toBe(true);
    expect(t.adapter.edits.at(-1)).toMatchObject({ messageId: newId, message: { progress: { state: "completed" } } });
  });
});
