import { defineWorkflow } from "../../src/tasks/workflow.ts";

/** Workflows for the compatibility tests: an answer that shows how much history it saw, a question, one that never ends. */
export const echo = defineWorkflow<{ text: string }>({
  name: "echo",
  run: async (ctx, input) => {
    await ctx.progress(50, "thinking");
    return { text: `echo: ${input.text} (history ${ctx.history.length})` };
  },
});

export const asker = defineWorkflow<{ text: string }>({
  name: "asker",
  run: async (ctx, input) => {
    const size = await ctx.ask(`Which size for "${input.text}"?`, { choices: ["small", "large"] });
    return { text: `${size} ${input.text}` };
  },
});

export const stuck = defineWorkflow<{ text: string }>({
  name: "stuck",
  run: (ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(new Error("stopped")))),
});

export const COMPAT_WORKFLOWS = [echo, asker, stuck];

/** A config routing plain messages to `workflow`. */
export const routeTo = (workflow: string) => ({ routes: { default: { message: workflow, commands: {} } } });
