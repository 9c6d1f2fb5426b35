import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { ChatflowError, ConfigError } from "../../src/errors.ts";
import { createBot } from "../../src/app.ts";
import { silentLogger } from "../../src/logger.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import { defineWorkflow } from "../../src/tasks/workflow.ts";
import { useWebBots } from "../web/web-setup.ts";
import { eventually, useTestBots } from "../helpers.ts";

/**
 * Every task starts through one door (bot.startTask): the same rules whoever asks, and a
 * refused input is a validation error everywhere, never a 500.
 */
const start = useTestBots(afterEach);
const startWeb = useWebBots(afterEach);

/** Wants a topic of at least 5 characters, made from the person's text. */
const picky = defineWorkflow({
  name: "picky",
  input: z.object({ topic: z.string().min(5, "say a bit more (at least 5 characters)") }),
  fromRequest: (request) => ({ topic: request.text }),
  async run(_ctx, input) {
    return { text: `About ${input.topic}.` };
  },
});

describe("one way to start a task", () => {
  it("only the door calls the runner's submit", () => {
    const root = fileURLToPath(new URL("../../", import.meta.url));
    const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "src", "adapters"], { cwd: root, encoding: "utf8" })
      .split("\n")
      .filter((file) => file.endsWith(".ts"));
    const callers = files.filter((file) => /\.submit\(\s*\{/.test(readFileSync(path.join(root, file), "utf8")));
    expect(callers).toEqual(["src/engine/task-start.ts"]);
  });

  it("a refused input is a reply in chat, a 400 naming the field over POST /tasks and /api/qa", async () => {
    const t = await start({ workflows: [picky] });
    await t.say("owl");
    expect(t.replies().at(-1)).toBe("I can't start picky: topic: say a bit more (at least 5 characters).");
    expect((await t.store.listTasks()).items).toHaveLength(0);

    const w = await startWeb({ config: { routes: { default: { message: "picky", commands: {} } } }, workflows: [picky] });
    const rest = await w.call("POST", "/api/v1/tasks", { body: { workflow: "picky", input: { topic: "owl" } } });
    expect(rest.status).toBe(400);
    expect(rest.body).toEqual({ error: "bad_request", message: "input.topic: say a bit more (at least 5 characters)" });
    const qa = await w.call("POST", "/api/qa", { body: { question: "owl" } });
    expect(qa.status).toBe(400);
    expect(qa.body.message).toBe("input.topic: say a bit more (at least 5 characters)");
    // Nothing was opened for the refused requests.
    expect((await w.call("GET", "/api/v1/sessions")).body.items).toHaveLength(0);
    // Task ids have one shape, with or without an Idempotency-Key.
    const plain = await w.call("POST", "/api/v1/tasks", { body: { workflow: "picky", input: { topic: "owls and bats" } } });
    const keyed = await w.call("POST", "/api/v1/tasks", { body: { workflow: "picky", input: { topic: "owls and bats" } }, headers: { "Idempotency-Key": "k1" } });
    expect([plain.body.taskId, keyed.body.taskId]).toEqual([expect.stringMatching(/^t-[\w-]{20}$/), expect.stringMatching(/^t-[\w-]{20}$/)]);
  });

  it("holds a person's text to history.maxMessageLength on every path: a request, an answer, a review's edit or feedback", async () => {
    const w = await startWeb();
    const long = "x".repeat(10_001);
    const address = { platform: "web", channel: "w-long", user: "alice", direct: true };
    await expect(w.bot.startTask({ workflow: "demo", request: { text: long }, address })).rejects.toThrow("text: 10,001 characters; the limit is 10,000 (history.maxMessageLength).");
    const started = await w.call("POST", "/api/v1/tasks", { body: { workflow: "demo", input: { text: "a short summary of owls" } } });
    const taskId = started.body.taskId as string;
    await eventually(async () => (await w.call("GET", `/api/v1/tasks/${taskId}`)).body.waitingFor?.kind === "review", 10_000, "the review");
    for (const body of [{ approved: true, edited: long }, { approved: false, feedback: long }]) {
      const refused = await w.call("POST", `/api/v1/tasks/${taskId}/review`, { body });
      expect(refused.status).toBe(400);
      expect(refused.body.message).toMatch(/^(edited|feedback): 10,001 characters; the limit is 10,000/);
    }
    // Nothing was taken: the review still waits, and the history holds no 10,001 characters.
    expect((await w.call("GET", `/api/v1/tasks/${taskId}`)).body.status).toBe("waiting");
    expect((await w.call("POST", `/api/v1/tasks/${taskId}/review`, { body: { approved: true } })).status).toBe(200);
  });

  it("tasks.busy: reject refuses a second task in a busy session on every path (409 over HTTP)", async () => {
    const w = await startWeb({ config: { tasks: { busy: "reject" } } });
    const session = (await w.call("POST", "/api/v1/sessions", { body: {} })).body.id;
    expect((await w.call("POST", "/api/v1/tasks", { body: { workflow: "demo", input: { text: "owls" }, sessionId: session } })).status).toBe(202);
    const second = await w.call("POST", "/api/v1/tasks", { body: { workflow: "demo", input: { text: "bats" }, sessionId: session } });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ error: "conflict", message: expect.stringMatching(/still working on an earlier request/) });
  });

  it("a schedule's workflow input is checked when it is made: in chat, over HTTP and in the config file", async () => {
    const t = await start({ workflows: [picky] });
    await t.command("schedule", 'add "0 9 * * *" /picky owl');
    expect(t.replies().at(-1)).toBe("That input does not fit picky: input.topic: say a bit more (at least 5 characters).");
    await expect(t.bot.host.schedules.add({ cron: "0 9 * * *", target: { platform: "test", channel: "c1", user: "alice" }, origin: "chat", workflow: "picky", input: { topic: 3 } })).rejects.toThrow(ChatflowError);

    const config = { scheduler: { schedules: [{ id: "daily", cron: "0 9 * * *", target: { platform: "test", channel: "x" }, workflow: "picky", input: { topic: "owl" } }] } };
    await expect(createBot({ config, store: createMemoryStore(), adapters: [], workflows: [picky], logger: silentLogger() })).rejects.toThrow(ConfigError);
    await expect(createBot({ config, store: createMemoryStore(), adapters: [], workflows: [picky], logger: silentLogger() })).rejects.toThrow(
      "scheduler.schedules[0].input.topic: say a bit more (at least 5 characters)",
    );
  });
});
