import { createBot } from "../app.ts";
import type { ConfigInput } from "../config/schema.ts";
import { silentLogger } from "../logger.ts";
import type { OutboundMessage } from "../model.ts";
import { createMemoryStore } from "../store/memory.ts";
import type { Task } from "../store/records.ts";
import type { ReviewVerdict, Workflow } from "../tasks/workflow.ts";
import { createRecordingAdapter, type RecordedSend } from "./recording-adapter.ts";

/** A scripted answer: text for `ask` (a choice's label for choices), a verdict for `review`. */
export type ScriptedAnswer = string | ReviewVerdict;

export interface RunWorkflowOptions {
  /** Answers given in order to each question or review the workflow asks. */
  answers?: ScriptedAnswer[];
  /** Configuration overrides (e.g. `tasks.stepRetries`). */
  config?: ConfigInput;
  /** Give up after this many ms. Default 10,000. */
  timeoutMs?: number;
  /** Where secrets are read from (LLM_API_KEY, an MCP server's header variables); default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

export interface WorkflowRun {
  /** The task at its end. */
  task: Task;
  /** Every question and review asked, in order. */
  asked: OutboundMessage[];
  /** Everything the engine sent. */
  sent: RecordedSend[];
}

/**
 * Runs a workflow in-process (memory store, recording adapter) with scripted answers, for
 * workflow authors' tests. Resolves when the task completes, fails or is cancelled; rejects
 * when the workflow asks more than the script answers.
 */
export async function runWorkflow<I>(workflow: Workflow<I>, input: I, options: RunWorkflowOptions = {}): Promise<WorkflowRun> {
  const adapter = createRecordingAdapter();
  const bot = await createBot({
    config: { ...options.config, routes: { default: { message: workflow.name } } },
    store: createMemoryStore(),
    adapters: [adapter],
    workflows: [workflow],
    logger: silentLogger(),
    ...(options.env ? { env: options.env } : {}),
  });
  await bot.start();
  const script = [...(options.answers ?? [])];
  const asked: OutboundMessage[] = [];
  const address = { platform: adapter.platform, channel: "test", user: "tester" };
  let events = 0;
  const deliver = (event: Record<string, unknown>) => adapter.deliver({ id: `run-${++events}`, address, ...event } as never);
  try {
    const { task } = await bot.startTask({ workflow: workflow.name, input, address });
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    let seen = 0;
    for (;;) {
      const current = await bot.store.getTask(task.id);
      if (!current) throw new Error("The task disappeared.");
      if (["completed", "failed", "cancelled"].includes(current.status)) return { task: current, asked, sent: adapter.sent };
      const questions = adapter.sent.filter((s) => s.message.kind === "question" || s.message.kind === "review");
      if (current.status === "waiting" && questions.length > seen) {
        const message = questions[questions.length - 1]!.message;
        seen = questions.length;
        asked.push(message);
        const answer = script.shift();
        if (answer === undefined) throw new Error(`The workflow asked "${message.text}" but the script has no answer left.`);
        await answerWith(message, answer, deliver);
      }
      if (Date.now() > deadline) throw new Error(`The workflow did not finish within ${options.timeoutMs ?? 10_000} ms (status ${current.status}).`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    await bot.stop();
  }
}

async function answerWith(message: OutboundMessage, answer: ScriptedAnswer, deliver: (event: Record<string, unknown>) => Promise<void>): Promise<void> {
  const action = (role: string, label?: string) => message.actions?.find((a) => a.role === role && (label === undefined || a.label === label));
  if (typeof answer === "string") {
    const choice = action("choice", answer);
    if (message.actions?.some((a) => a.role === "choice") && !choice) throw new Error(`"${answer}" is not one of the choices of "${message.text}".`);
    if (choice) return deliver({ kind: "action", actionId: choice.id });
    return deliver({ kind: "message", text: answer });
  }
  if (message.kind !== "review") throw new Error(`A review verdict was scripted, but the workflow asked "${message.text}".`);
  const feedback = answer.feedback ? { feedback: answer.feedback } : {};
  if (!answer.approved) return deliver({ kind: "action", actionId: action("reject")!.id, ...feedback });
  if (answer.edited !== undefined) return deliver({ kind: "action", actionId: action("edit")!.id, text: answer.edited, ...feedback });
  return deliver({ kind: "action", actionId: action("approve")!.id, ...feedback });
}
