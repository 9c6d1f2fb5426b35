import type { ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { Address, InboundEvent, OutboundMessage } from "../../src/model.ts";
import { spawnWorker, type Worker } from "../adapters/fixtures/spawn-worker.ts";
import { startFakeLlm, type FakeLlm } from "../fakes/llm/server.ts";
import { waitForCondition } from "../fakes/wait.ts";
import type { ProbedTask } from "./assistant-worker.ts";

/**
 * The assistant across SIGKILLs: a real child process runs chatflow on a lowdb store in a temp
 * dir, with the assistant talking to the fake LLM in this process, and the IPC adapter to this
 * test, which plays the chat platform (it gives message ids, keeps every send and edit, and
 * re-delivers events the killed process had not acknowledged). The process is killed while the
 * model's question waits for the person, and in the middle of a streamed answer; a new process
 * on the same data takes over.
 */
const worker = fileURLToPath(new URL("./assistant-worker.ts", import.meta.url));
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const address: Address = { platform: "ipc", channel: "ch1", user: "alice", direct: true };

/** The chat platform, as the child processes see it over IPC. */
class Platform {
  readonly sends: Array<{ id: string; message: OutboundMessage }> = [];
  readonly edits: Array<{ messageId: string; message: OutboundMessage }> = [];
  /** The keys the bot asked about (recall: was this post made before the crash?). */
  readonly recalls: string[] = [];
  /** Sends to post but never answer (the post is made, its answer lost with the process). */
  hold: ((message: OutboundMessage) => boolean) | undefined;
  readonly #keys = new Map<string, string>();
  readonly #events = new Map<string, InboundEvent>();
  readonly #acked = new Set<string>();
  readonly #changes = new EventEmitter();
  readonly #probes = new Map<number, (tasks: ProbedTask[]) => void>();
  #child: ChildProcess | undefined;
  #ready = false;
  #probeCount = 0;
  #eventCount = 0;

  /** Serves this worker from now on (the previous one is dead); re-delivers unacknowledged events once it is ready. */
  attach(w: Worker): void {
    this.#child = w.child;
    this.#ready = false;
    const child = w.child;
    child.on("message", (raw) => {
      const msg = raw as { type: string; op?: string; id?: number; eventId?: string; message?: OutboundMessage; messageId?: string; key?: string; tasks?: ProbedTask[] };
      if (msg.type === "ready") {
        this.#ready = true;
        for (const [id, event] of this.#events) if (!this.#acked.has(id)) this.#send(child, { type: "event", event });
      } else if (msg.type === "ack") {
        this.#acked.add(msg.eventId!);
      } else if (msg.type === "probe") {
        this.#probes.get(msg.id!)?.(msg.tasks!);
        this.#probes.delete(msg.id!);
      } else if (msg.type === "call" && msg.op === "send") {
        const id = `p${this.sends.length + 1}`;
        this.sends.push({ id, message: msg.message! });
        if (msg.message!.key) this.#keys.set(msg.message!.key, id);
        if (!this.hold?.(msg.message!)) this.#send(child, { type: "result", id: msg.id, result: { id } });
      } else if (msg.type === "call" && msg.op === "edit") {
        this.edits.push({ messageId: msg.messageId!, message: msg.message! });
        this.#send(child, { type: "result", id: msg.id, result: null });
      } else if (msg.type === "call" && msg.op === "recall") {
        const id = this.#keys.get(msg.key!);
        this.recalls.push(msg.key!);
        this.#send(child, { type: "result", id: msg.id, result: id ? { id } : null });
      }
      this.#changes.emit("change");
    });
  }

  /** The person does something in the chat (re-delivered after a restart until acknowledged). */
  deliver(event: { kind: "message"; text: string } | { kind: "action"; actionId: string }): void {
    const full = { ...event, id: `ev${++this.#eventCount}`, address } as InboundEvent;
    this.#events.set(full.id, full);
    if (this.#ready) this.#send(this.#child, { type: "event", event: full });
  }

  /** What a message shows now: its last edit, or what was posted. */
  shown(id: string): string | undefined {
    return this.edits.filter((e) => e.messageId === id).at(-1)?.message.text ?? this.sends.find((s) => s.id === id)?.message.text;
  }

  /** Messages posted (not edits) whose text matches. */
  posted(match: (message: OutboundMessage) => boolean): Array<{ id: string; message: OutboundMessage }> {
    return this.sends.filter((s) => match(s.message));
  }

  waitUntil<T>(condition: () => T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
    return waitForCondition(this.#changes, condition, timeoutMs, what, () => `Sent: ${this.sends.map((s) => `${s.id} ${s.message.kind} "${s.message.text.slice(0, 50)}"`).join("; ")}. Edits: ${this.edits.length}.`);
  }

  /** What the child's store holds (on disk once this resolves). */
  probe(): Promise<ProbedTask[]> {
    const id = ++this.#probeCount;
    return new Promise((resolve) => {
      this.#probes.set(id, resolve);
      this.#send(this.#child, { type: "probe", id });
    });
  }

  /** Probes until `condition` holds for the store's tasks. */
  async probeUntil(condition: (tasks: ProbedTask[]) => boolean, what: string, timeoutMs = 20_000): Promise<ProbedTask[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const tasks = await this.probe();
      if (condition(tasks)) return tasks;
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}. Tasks: ${JSON.stringify(tasks)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  #send(child: ChildProcess | undefined, message: object): void {
    if (child?.connected) child.send(message, () => {});
  }
}

async function setup(env: Record<string, string> = {}): Promise<{ llm: FakeLlm; platform: Platform; spawn: () => Promise<Worker>; dir: string }> {
  const llm = await startFakeLlm();
  cleanups.push(() => llm.close());
  const dir = await mkdtemp(path.join(tmpdir(), "chatflow-assistant-crash-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const platform = new Platform();
  const spawn = async () => {
    const w = spawnWorker(worker, { CRASH_DIR: dir, LLM_BASE_URL: llm.baseURL, LLM_API_KEY: llm.apiKey, ...env }, (fn) => cleanups.push(fn));
    platform.attach(w);
    await w.ready;
    return w;
  };
  return { llm, platform, spawn, dir };
}

async function kill(w: Worker): Promise<void> {
  w.child.kill("SIGKILL");
  await w.exited;
}

describe("assistant: SIGKILL while the model's question waits", () => {
  for (const how of ["button", "text"] as const) {
    it(`the answer (by ${how}) after a restart goes to the model; the first model call is not made again; the answer is posted once`, async () => {
      const { llm, platform, spawn } = await setup();
      llm.script({ toolCalls: [{ name: "ask_user", arguments: { question: "Which city do you mean?", choices: ["Paris", "Rome"] } }] }, (request) => {
        const result = request.messages.find((m) => m.role === "tool");
        return { text: `Here is a guide to ${String(result?.content)}.` };
      });

      const first = await spawn();
      platform.deliver({ kind: "message", text: "Tell me about a city" });
      const question = await platform.waitUntil(() => platform.posted((m) => m.kind === "question" && m.text === "Which city do you mean?")[0], "the model's question");
      expect(question.message.actions?.filter((a) => a.role === "choice").map((a) => a.label)).toEqual(["Paris", "Rome"]);
      // Killed while the task waits: parked, and the question's message known, on disk.
      await platform.probeUntil((tasks) => tasks[0]?.status === "waiting" && Object.values(tasks[0].outbox).some((r) => r.messageId === question.id), "the task parked with its question recorded");
      expect(llm.completions).toHaveLength(1);
      await kill(first);

      const second = await spawn();
      if (how === "button") platform.deliver({ kind: "action", actionId: question.message.actions!.find((a) => a.label === "Rome")!.id });
      else platform.deliver({ kind: "message", text: "rome" });

      const full = "Here is a guide to Rome.";
      const answer = await platform.waitUntil(() => platform.posted((m) => m.kind === "reply" && m.text.startsWith("Here"))[0], "the answer after the restart");
      await platform.waitUntil(() => platform.shown(answer.id) === full, "the whole answer shown");
      await platform.probeUntil((tasks) => tasks[0]?.status === "completed", "the task completed");

      // Two model calls in all: the one before the kill (journaled) was not made again.
      expect(llm.completions).toHaveLength(2);
      const [asked, answered] = llm.completions;
      expect(asked!.messages.some((m) => m.role === "tool")).toBe(false);
      const call = answered!.messages.find((m) => m.role === "assistant")?.tool_calls?.[0];
      expect(call).toMatchObject({ type: "function", function: { name: "ask_user" } });
      expect(answered!.messages.find((m) => m.role === "tool")).toMatchObject({ tool_call_id: call!.id, content: "Rome" });
      // Each message posted once by the two processes: the task's status, the question (not
      // shown again after the restart: it still stood), and the answer, streamed into one message.
      expect(platform.sends.map((s) => [s.message.kind, s.id])).toEqual([["status", "p1"], ["question", question.id], ["reply", answer.id]]);
      expect(llm.violations).toEqual([]);

      second.child.kill("SIGTERM");
      expect(await second.exited).toBe(0);
    }, 60_000);
  }
});

describe("assistant: SIGKILL in the middle of a streamed answer", () => {
  it("after a restart the call is made again, into the same message (edited, not posted again)", async () => {
    const { llm, platform, spawn } = await setup();
    const head = "The first half of the answer";
    const full = `${head}, and then the second half of it.`;
    // The first call streams its head, then holds the rest (until the process dies); the call made again answers in full.
    llm.script({ hang: true, text: head }, { text: full, delayMs: 5 });

    const first = await spawn();
    platform.deliver({ kind: "message", text: "Tell me something in two halves" });
    const answer = await platform.waitUntil(() => platform.posted((m) => m.kind === "reply" && m.text.startsWith("The"))[0], "the streamed answer posted");
    await platform.waitUntil(() => platform.shown(answer.id) === head, "the head of the answer shown");
    // The streamed message's id is on disk (its outbox), the model call not journaled.
    await platform.probeUntil((tasks) => Object.values(tasks[0]?.outbox ?? {}).some((r) => r.messageId === answer.id), "the streamed message recorded");
    expect(llm.completions).toHaveLength(1);
    await kill(first);
    // The held request ends with the process that made it.
    await llm.waitUntil(() => llm.completions[0]!.aborted, 10_000, "the first request closed by the kill");

    const second = await spawn();
    await platform.waitUntil(() => platform.shown(answer.id) === full, "the same message showing the whole answer");
    await platform.probeUntil((tasks) => tasks[0]?.status === "completed", "the task completed");

    expect(llm.completions).toHaveLength(2);
    expect(llm.completions[1]!.messages.map((m) => [m.role, m.content])).toEqual(llm.completions[0]!.messages.map((m) => [m.role, m.content]));
    // One message for the answer, posted by the first process and edited by both; besides it only the task's status.
    expect(platform.sends.map((s) => [s.message.kind, s.id])).toEqual([["status", "p1"], ["reply", answer.id]]);
    expect(platform.edits.filter((e) => e.message.kind === "reply").every((e) => e.messageId === answer.id)).toBe(true);
    expect(platform.edits.filter((e) => e.messageId === answer.id).at(-1)?.message.text).toBe(full);
    expect(llm.violations).toEqual([]);

    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  }, 60_000);

  it("killed while the answer's first post was in flight: after a restart the platform is asked for it, and it is edited, not posted again", async () => {
    const { llm, platform, spawn } = await setup();
    const head = "The first half of the answer";
    const full = `${head}, and then the second half of it.`;
    llm.script({ hang: true, text: head }, { text: full, delayMs: 5 });
    // The platform posts the answer's first message but its reply (the message id) never reaches the bot.
    platform.hold = (message) => message.kind === "reply";

    const first = await spawn();
    platform.deliver({ kind: "message", text: "Tell me something in two halves" });
    const answer = await platform.waitUntil(() => platform.posted((m) => m.kind === "reply")[0], "the streamed answer posted");
    // The bot noted the post as in flight before making it.
    await platform.probeUntil((tasks) => Object.values(tasks[0]?.outbox ?? {}).some((r) => r.pending === true), "the post noted as pending");
    await kill(first);
    platform.hold = undefined;

    const second = await spawn();
    await platform.waitUntil(() => platform.shown(answer.id) === full, "the posted message showing the whole answer");
    await platform.probeUntil((tasks) => tasks[0]?.status === "completed", "the task completed");

    expect(platform.recalls).toEqual([answer.message.key]);
    expect(platform.sends.map((s) => [s.message.kind, s.id])).toEqual([["status", "p1"], ["reply", answer.id]]);
    expect(platform.edits.filter((e) => e.message.kind === "reply").every((e) => e.messageId === answer.id)).toBe(true);
    expect(llm.completions).toHaveLength(2);
    expect(llm.violations).toEqual([]);

    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  }, 60_000);
});

describe("agent: SIGKILL after a tool ran, before the next model call", () => {
  it("after a restart neither the first model call nor the tool runs again; the next call is made and answered once", async () => {
    const { llm, platform, spawn, dir } = await setup({ CRASH_AGENT: "1" });
    // The model asks for the tool; the call after it hangs until the process dies; made again, it answers.
    llm.script({ toolCalls: [{ id: "call_look", name: "lookup_order", arguments: { order: "A-17" } }] }, { hang: true }, (request) => ({
      text: `Your order ${JSON.parse(String(request.messages.find((m) => m.role === "tool")?.content)).order} has shipped.`,
    }));
    const lookups = async () => (await readFile(path.join(dir, "lookups.log"), "utf8").catch(() => "")).split("\n").filter(Boolean);

    const first = await spawn();
    platform.deliver({ kind: "message", text: "Where is order A-17?" });
    // The second model call arrived: the tool's step finished (and was journaled) before it.
    await llm.waitUntil(() => llm.requests.length >= 2, 20_000, "the model call after the tool");
    expect(await lookups()).toHaveLength(1);
    await kill(first);

    const second = await spawn();
    const answer = await platform.waitUntil(() => platform.posted((m) => m.kind === "reply" && m.text.startsWith("Your"))[0], "the answer after the restart");
    await platform.waitUntil(() => platform.shown(answer.id) === "Your order A-17 has shipped.", "the whole answer shown");
    await platform.probeUntil((tasks) => tasks[0]?.status === "completed", "the task completed");
    // The tool ran once, in the first process; the model was called three times: the first call
    // (journaled, not made again), the one cut off by the kill, and that one made again.
    expect((await lookups()).map((line) => line.split(" ")[0])).toEqual(["A-17"]);
    expect(llm.requests).toHaveLength(3);
    expect(llm.violations).toEqual([]);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  }, 60_000);
});
