/**
 * The workflow of the crash and multi-instance tests: three journaled steps, a question for
 * even numbers and a review for multiples of 3 ("task 6" asks both). Each step appends
 * `start <task> step:<id>#0` before it works and `done <task> step:<id>#0 <nonce>` after,
 * synchronously (the log survives SIGKILL), so a test can tell whether a step ever ran twice.
 * With `instance`, lines also say which process ran them (and when a step started).
 */
import { appendFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { defineWorkflow, type Workflow } from "../../src/tasks/workflow.ts";

export function countedWorkflow(options: { name: string; stepsLog: string; delayMs: { min: number; spread: number }; instance?: string }): Workflow<{ text: string }> {
  const { stepsLog, delayMs, instance } = options;
  return defineWorkflow({
    name: options.name,
    async run(ctx, input: { text: string }) {
      const n = Number(input.text.split(" ")[1]);
      const step = (id: string) =>
        ctx.step(id, async (signal) => {
          const key = `${ctx.taskId} step:${id}#0`;
          appendFileSync(stepsLog, `start ${key}${instance ? ` ${instance} ${Date.now()}` : ""}\n`);
          await sleep(delayMs.min + Math.floor(Math.random() * delayMs.spread), undefined, { signal });
          const nonce = Math.random().toString(36).slice(2);
          appendFileSync(stepsLog, `done ${key} ${nonce}${instance ? ` ${instance}` : ""}\n`);
          return nonce;
        });
      await ctx.progress(10, "one");
      await step("one");
      const choice = n % 2 === 0 ? await ctx.ask("Pick one", { choices: ["x", "y"] }) : "none";
      await ctx.progress(50, "two");
      await step("two");
      const verdict = n % 3 === 0 ? await ctx.review("Fine?", { data: `draft ${n}` }) : { approved: true };
      await ctx.progress(80, "three");
      await step("three");
      return { text: `result ${n} ${choice} ${verdict.approved ? "approved" : "rejected"}` };
    },
  });
}
