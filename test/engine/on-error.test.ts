import { afterEach, describe, expect, it } from "vitest";
import { BotError, ChatflowError, NonRetriableError } from "../../src/index.ts";
import { faultyStore } from "../faulty-store.ts";
import { defineWorkflow } from "../../src/tasks/workflow.ts";
import { eventually, useTestBots } from "../helpers.ts";

/** createBot({ onError }) hears of every error the engine handles, with what it belongs to. */
const start = useTestBots(afterEach);

const failing = defineWorkflow({
  name: "failing",
  async run(ctx) {
    await ctx.step("fetch", () => {
      throw new NonRetriableError("the source answered 410 Gone");
    });
    return { text: "never" };
  },
});

describe("onError", () => {
  it("gets a failed task as a BotError with the task and the original error as cause", async () => {
    const errors: BotError[] = [];
    const t = await start({ workflows: [failing], onError: (error) => void errors.push(error) });
    await t.say("go");
    await eventually(() => errors.length === 1, 5000, "onError called");
    const [error] = errors;
    expect(error).toBeInstanceOf(BotError);
    expect(error!.context.where).toBe("task");
    expect(error!.context.task).toMatchObject({ workflow: "failing", owner: "alice" });
    expect(error!.error).toBeInstanceOf(NonRetriableError);
    expect(error!.cause).toBe(error!.error);
    expect(error!.message).toMatch(/^Task \S+ \(failing\): the source answered 410 Gone$/);
    expect(error!.code).toBe("workflow");
  });

  it("gets an inbound event that failed, with the event; a throwing onError does not stop the bot", async () => {
    const { store, around } = faultyStore();
    const errors: BotError[] = [];
    const t = await start({
      store,
      onError: (error) => {
        errors.push(error);
        throw new Error("the error tracker is down");
      },
    });
    // The next history write fails, as on a full disk.
    around.set("appendMessage", () => {
      around.delete("appendMessage");
      return Promise.reject(new ChatflowError("store", "could not write to the history file (ENOSPC)"));
    });
    await t.say("tell me about owls");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.context).toMatchObject({ where: "inbound", event: { kind: "message", text: "tell me about owls" } });
    expect(errors[0]!.code).toBe("store");
    expect(t.replies().at(-1)).toMatch(/couldn't save that, so it was not received/);
    // The bot goes on.
    await t.say("short summary of owls");
    await t.expectSent("review");
  });
});
