import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { defineWorkflow, type Workflow } from "../tasks/workflow.ts";

export interface DemoOptions {
  /** Delay of each step, in ms. Default 800. */
  stepDelayMs?: number;
}

const FORMATS = ["Short summary", "Detailed report"] as const;

/** The words that make a request unambiguous about its format. */
function formatFromText(text: string): (typeof FORMATS)[number] | undefined {
  if (/\b(short|summary|brief|tl;?dr)\b/i.test(text)) return "Short summary";
  if (/\b(detailed|report|long|in-depth)\b/i.test(text)) return "Detailed report";
  return undefined;
}

function draftFor(topic: string, format: string): string {
  if (format === "Short summary") {
    return `${topic}: the essentials in three points.\n1. What it is.\n2. Why it matters.\n3. What to read next.`;
  }
  return [
    `Report: ${topic}`,
    "",
    "Background — where the topic comes from and who works on it.",
    "Current state — what is known, with the main open questions.",
    "Outlook — what to watch over the coming months.",
  ].join("\n");
}

/**
 * The built-in demo: every capability without keys or network. Steps with progress and a
 * delay, a clarifying question with choices when the format is ambiguous, a free-text
 * question when there is no topic, a review of the draft (approve / reject / edit), and a
 * result with reference links.
 */
export function createDemoWorkflow(options: DemoOptions = {}): Workflow<{ text: string }> {
  const delay = options.stepDelayMs ?? 800;
  const work = async <T>(signal: AbortSignal, value: T): Promise<T> => {
    await sleep(delay, undefined, { signal });
    return value;
  };
  return defineWorkflow({
    name: "demo",
    description: "a demo task: steps with progress, a question, a review and a result",
    input: z.object({ text: z.string() }),
    async run(ctx, input) {
      let topic = input.text.trim();
      if (topic === "") topic = (await ctx.ask("What should I write about?")).trim() || "something interesting";
      await ctx.progress(5, "Understanding the request");
      await ctx.step("understand", (signal) => work(signal, true));
      const format = formatFromText(topic) ?? (await ctx.ask("Which kind of answer do you want?", { choices: [...FORMATS] }));
      await ctx.progress(30, "Gathering sources");
      const sources = await ctx.step("sources", (signal) =>
        work(signal, [
          { title: `Wikipedia: ${topic}`, url: `https://en.wikipedia.org/wiki/Special:Search?search=${encodeURIComponent(topic)}` },
          { title: `Open Library: ${topic}`, url: `https://openlibrary.org/search?q=${encodeURIComponent(topic)}` },
        ]),
      );
      await ctx.progress(60, "Drafting");
      const draft = await ctx.step("draft", (signal) => work(signal, draftFor(topic, format)));
      await ctx.progress(80, "Waiting for review");
      const verdict = await ctx.review("Publish this draft?", { data: draft });
      if (!verdict.approved) {
        return { text: `Stopped: the draft was rejected${verdict.feedback ? ` (${verdict.feedback})` : ""}.` };
      }
      await ctx.progress(90, "Polishing");
      const final = await ctx.step("polish", (signal) => work(signal, (verdict.edited ?? draft).trim()));
      const note = verdict.feedback ? `\n\nNoted your feedback: ${verdict.feedback}` : "";
      return { text: `${final}${note}`, links: sources };
    },
  });
}
