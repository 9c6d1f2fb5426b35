import { afterEach, describe, expect, it } from "vitest";
import { RateLimitError } from "../../src/errors.ts";
import { defineWorkflow } from "../../src/tasks/workflow.ts";
import { useTestBots } from "../helpers.ts";

const start = useTestBots(afterEach);

describe("a step that hits a rate limit", () => {
  it("is retried after the retry-after the platform asked for, not the (1 ms) backoff", async () => {
    const attempts: number[] = [];
    const limited = defineWorkflow({
      name: "limited",
      async run(ctx) {
        const text = await ctx.step("call", () => {
          attempts.push(performance.now());
          if (attempts.length === 1) throw new RateLimitError("The platform asks to slow down.", 300);
          return "called";
        });
        return { text };
      },
    });
    const t = await start({ workflows: [limited], config: { tasks: { retryBaseMs: 1 } } });
    await t.say("go");
    expect((await t.expectSent("result")).text).toBe("called");
    expect(attempts).toHaveLength(2);
    // A lower bound only. A little under 300: Node measures a timer from the event loop's
    // cached clock, which can be a few ms older than the moment the first attempt threw.
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(280);
  });

  it("fails at once, with the rate limit as the reason, when the wait would outlast the task's timeout", async () => {
    let attempts = 0;
    const limited = defineWorkflow({
      name: "limited",
      timeoutMs: 3000,
      async run(ctx) {
        await ctx.step("call", () => {
          attempts++;
          throw new RateLimitError("The platform asks to wait a minute.", 60_000);
        });
        return { text: "never" };
      },
    });
    const t = await start({ workflows: [limited] });
    await t.say("go");
    const failed = await t.waitForTask((task) => task.status === "failed");
    // Had it waited, the timeout would have ended it ("ran longer than its timeout").
    expect(failed.error).toBe("The platform asks to wait a minute.");
    expect(attempts).toBe(1);
    await t.expectSent("notice", "Sorry, the task failed: The platform asks to wait a minute.");
  });
});
