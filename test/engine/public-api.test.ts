import { readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createLogger, defineWorkflow, NonRetriableError, runWorkflow } from "../../src/index.ts";

const report = defineWorkflow({
  name: "report",
  async run(ctx, input: { topic: string }) {
    await ctx.progress(10, "Collecting");
    const sources = await ctx.step("collect", () => [`https://example.org/${input.topic}`]);
    const scope = await ctx.ask("Which period?", { choices: ["This week", "This month"] });
    const note = await ctx.ask("Anything to add?");
    const verdict = await ctx.review("Publish?", { data: `${input.topic}: ${scope}` });
    if (!verdict.approved) return { text: `Stopped: ${verdict.feedback ?? "rejected"}` };
    return { text: `${verdict.edited ?? `${input.topic}: ${scope}`} (${note})`, links: sources.map((url) => ({ url })) };
  },
});

describe("runWorkflow (testing helper for workflow authors)", () => {
  it("runs a workflow with scripted answers to its questions and review", async () => {
    const run = await runWorkflow(report, { topic: "owls" }, { answers: ["This month", "nothing", { approved: true, edited: "Owls, edited", feedback: "fine" }] });
    expect(run.task.status).toBe("completed");
    expect(run.task.result).toEqual({ text: "Owls, edited (nothing)", links: [{ url: "https://example.org/owls" }] });
    expect(run.asked.map((m) => m.text)).toEqual(["Which period?", "Anything to add?", "Publish?"]);
  });

  it("reports a rejection and a failing workflow", async () => {
    const rejected = await runWorkflow(report, { topic: "cats" }, { answers: ["This week", "-", { approved: false, feedback: "too short" }] });
    expect(rejected.task.result?.text).toBe("Stopped: too short");
    const broken = defineWorkflow({ name: "broken", run: async (ctx) => (await ctx.step("x", () => { throw new NonRetriableError("no data"); }), { text: "" }) });
    expect((await runWorkflow(broken, {})).task).toMatchObject({ status: "failed", error: "no data" });
  });

  it("rejects when the workflow asks more than the script answers", async () => {
    await expect(runWorkflow(report, { topic: "x" }, { answers: ["This week"] })).rejects.toThrow(/asked "Anything to add\?" but the script has no answer left/);
  });
});

describe("logs", () => {
  it("are JSON lines with secrets redacted", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "chatflow-log-"));
    try {
      const file = path.join(dir, "chatflow.log");
      const log = createLogger({ level: "info", file });
      log.info({ token: "123456:SECRET", config: { adapters: { telegram: { token: "123456:SECRET" } } }, headers: { authorization: "Bearer SECRET" } }, "started");
      log.flush();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const text = await readFile(file, "utf8");
      expect(JSON.parse(text.trim().split("\n")[0]!)).toMatchObject({ msg: "started", token: "[redacted]" });
      expect(text).not.toContain("SECRET");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
