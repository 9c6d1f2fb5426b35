import { asSchema, type ModelMessage, type Tool, type ToolResultPart } from "ai";
import { issuesInOneLine } from "../errors.ts";
import type { WorkflowContext } from "../tasks/workflow.ts";
import type { ToolCallRecord } from "./model-call.ts";

/** How many times a person may send an edited input that does not fit before the call counts as refused. */
const EDIT_ATTEMPTS = 3;

type Output = ToolResultPart["output"];

/** A tool's title for people: its `title`, else its name made readable (`lookup_order` → "lookup order"). */
export function toolTitle(name: string, tool: Tool | undefined): string {
  return tool?.title?.trim() || name.replace(/[_-]+/g, " ").trim();
}

/**
 * Runs one tool call the model made, durably:
 * - input the tool's schema refused (or a tool that does not exist): the model is told why;
 * - `needsApproval`: a review card shows the tool and its input; approve runs it (with the
 *   person's corrected input, checked against the schema again), reject tells the model it was
 *   refused and why. Only the task's starter and reviewers may decide (ctx.review's rule);
 * - the execution is a journaled step keyed by the model's tool call id: after a restart a
 *   finished call is never made again, one cut off by the crash runs again (at-least-once, as
 *   steps are). `execute` gets the task's AbortSignal, so a cancel stops it. A tool that throws
 *   does not fail the task: the model sees the error text.
 */
export async function runToolCall(ctx: WorkflowContext, call: ToolCallRecord, tool: Tool | undefined, messages: ModelMessage[]): Promise<Output> {
  if (!tool) return { type: "error-text", value: `There is no tool named "${call.name}".` };
  if (call.invalid !== undefined) return { type: "error-text", value: `The input for ${call.name} was not valid: ${call.invalid}` };
  let input = call.input;
  const asks = tool.needsApproval;
  const needed =
    asks === true ||
    (typeof asks === "function" && (await ctx.step(`approval-needed:${call.id}`, async () => Boolean(await asks(input as never, { toolCallId: call.id, messages })))));
  if (needed) {
    const decided = await approve(ctx, call, tool, input);
    if (!decided.approved) return { type: "error-text", value: `The person did not allow this call${decided.feedback ? `: ${decided.feedback}` : "."}` };
    input = decided.input;
  }
  const execute = tool.execute;
  if (!execute) return { type: "error-text", value: `The tool ${call.name} can't be run here (it has no execute function).` };
  const result = await ctx.step(`tool:${call.name}:${call.id}`, async (signal) => {
    try {
      const output = await lastValue(execute(input as never, { toolCallId: call.id, messages, abortSignal: signal }));
      return { ok: true as const, output: output === undefined ? null : (JSON.parse(JSON.stringify(output)) as unknown) };
    } catch (error) {
      // A cancel or a shutdown ends the step as it would any step; any other failure is the model's to hear.
      if (signal.aborted) throw error;
      return { ok: false as const, error: error instanceof Error ? error.message : String(error) };
    }
  });
  if (!result.ok) return { type: "error-text", value: `The tool ${call.name} failed: ${result.error}` };
  // An MCP tool's failure comes as a result marked isError.
  const failed = mcpFailure(result.output);
  if (failed !== undefined) return { type: "error-text", value: `The tool ${call.name} failed: ${failed}` };
  // The tool's own conversion for the model (an MCP tool's content parts), as the AI SDK would apply it.
  if (tool.toModelOutput) return (await tool.toModelOutput({ toolCallId: call.id, input: input as never, output: result.output as never })) as Output;
  return typeof result.output === "string" ? { type: "text", value: result.output } : { type: "json", value: result.output as never };
}

/** The text of an MCP tool result marked `isError`; undefined for any other output. */
function mcpFailure(output: unknown): string | undefined {
  if (output === null || typeof output !== "object" || (output as { isError?: unknown }).isError !== true) return undefined;
  const content = (output as { content?: unknown }).content;
  const texts = Array.isArray(content) ? content.flatMap((part) => (typeof (part as { text?: unknown })?.text === "string" ? [(part as { text: string }).text] : [])) : [];
  return texts.join(" ").trim() || "it reported an error";
}

/** The review card of a tool call that needs approval; the person may correct the input (JSON). */
async function approve(ctx: WorkflowContext, call: ToolCallRecord, tool: Tool, input: unknown): Promise<{ approved: true; input: unknown } | { approved: false; feedback?: string }> {
  const title = toolTitle(call.name, tool);
  let shown = JSON.stringify(input ?? {}, null, 2);
  let problem = "";
  for (let attempt = 0; attempt < EDIT_ATTEMPTS; attempt++) {
    const question = `${problem}Allow ${title}?${tool.description ? ` (${tool.description.trim()})` : ""}`;
    const verdict = await ctx.review(question, { data: shown, label: "Input", id: `approve:${call.id}` });
    if (!verdict.approved) return { approved: false, ...(verdict.feedback ? { feedback: verdict.feedback } : {}) };
    if (verdict.edited === undefined || verdict.edited.trim() === shown.trim()) return { approved: true, input };
    const checked = await checkInput(tool, verdict.edited);
    if (checked.ok) return { approved: true, input: checked.value };
    shown = verdict.edited;
    problem = `That input does not fit ${title}: ${checked.error} `;
  }
  return { approved: false, feedback: "the corrected input never fitted the tool" };
}

async function checkInput(tool: Tool, text: string): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `it is not JSON (${(error as Error).message}).` };
  }
  const schema = asSchema(tool.inputSchema);
  const result = schema.validate ? await schema.validate(value) : { success: true as const, value };
  if (result.success) return { ok: true, value: result.value };
  // The schema's issues: a ZodError's own, or those of the error's cause.
  type Issue = { path?: PropertyKey[]; message: string };
  const error = result.error as Error & { issues?: Issue[] };
  const cause = error.cause as Issue[] | { issues?: Issue[] } | undefined;
  const list = error.issues ?? (Array.isArray(cause) ? cause : cause?.issues);
  const issues = list?.map((issue) => ({ path: (issue.path ?? []).map((p) => (typeof p === "object" && p !== null && "key" in p ? (p as { key: PropertyKey }).key : p)), message: issue.message }));
  return { ok: false, error: `${issues ? issuesInOneLine(issues) : result.error.message}.` };
}

/** A tool's execute may return a value, a promise, or an async iterable of preliminary outputs: the last is the result. */
async function lastValue(output: unknown): Promise<unknown> {
  const value = await output;
  if (value !== null && typeof value === "object" && Symbol.asyncIterator in value) {
    let last: unknown;
    for await (const item of value as AsyncIterable<unknown>) last = item;
    return last;
  }
  return value;
}
