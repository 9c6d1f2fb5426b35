import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createConsoleAdapter } from "../../adapters/console/index.ts";
import { createBot } from "../../src/app.ts";
import { silentLogger } from "../../src/logger.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import { readBody } from "../fakes/http.ts";
import { startFakeLlm, type FakeLlm } from "../fakes/llm/server.ts";
import { waitForCondition } from "../fakes/wait.ts";

/**
 * The assistant in the console chat, as a person at the terminal sees it: the whole bot
 * (createBot) on the console adapter (lines typed on an input stream, everything printed
 * captured), the assistant against the fake LLM. A gate between the bot and the fake holds the
 * end of the model's stream until the test has seen its first words printed: the answer is
 * shown while the model is still writing it, not once it is done.
 */
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/**
 * A pass-through in front of the fake LLM that forwards the SSE stream event by event and
 * holds every event after the first `holdAfter` text chunks until `release()`.
 */
interface Gate {
  baseURL: string;
  /** Text chunks passed on to the bot so far. */
  readonly passed: number;
  release(): void;
}

async function startGate(llm: FakeLlm, holdAfter: number): Promise<Gate> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const state = { passed: 0, released: false };
  const forward = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const upstream = await fetch(`${llm.baseURL}${(req.url ?? "").replace(/^\/v1/, "")}`, {
      method: req.method ?? "POST",
      headers: { "content-type": "application/json", authorization: String(req.headers.authorization ?? "") },
      ...(req.method === "GET" ? {} : { body }),
    });
    res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" });
    res.flushHeaders();
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const bytes of upstream.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(bytes, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, end + 2);
        buffer = buffer.slice(end + 2);
        if (carriesText(event)) {
          if (state.passed >= holdAfter && !state.released) await released;
          state.passed++;
        }
        if (res.destroyed) return;
        res.write(event);
      }
    }
    res.end(buffer);
  };
  const server = createServer((req, res) => void forward(req, res).catch(() => res.destroy()));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    release();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });
  return {
    baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    get passed() {
      return state.passed;
    },
    release() {
      state.released = true;
      release();
    },
  };
}

/** An SSE event whose chunk carries some of the answer's text. */
function carriesText(event: string): boolean {
  const data = event.replace(/^data: /, "").trim();
  if (!data.startsWith("{")) return false;
  const content = (JSON.parse(data) as { choices?: Array<{ delta?: { content?: unknown } }> }).choices?.[0]?.delta?.content;
  return typeof content === "string" && content !== "";
}

async function startChat(baseURL: string, llm: FakeLlm) {
  const saved = process.env.LLM_API_KEY;
  process.env.LLM_API_KEY = llm.apiKey;
  cleanups.push(async () => {
    if (saved === undefined) delete process.env.LLM_API_KEY;
    else process.env.LLM_API_KEY = saved;
  });
  const input = new PassThrough();
  const output = new PassThrough();
  output.setEncoding("utf8");
  const screen = { text: "" };
  const changes = new EventEmitter();
  output.on("data", (chunk: string) => {
    screen.text += chunk;
    changes.emit("change");
  });
  // A pipe, as with `printf … | npm start`: each update of a message is printed as a line.
  const adapter = createConsoleAdapter({ input, output, tty: false, color: false, user: "ada", channel: "term" });
  const bot = await createBot({
    config: { tasks: { retryBaseMs: 1, stepRetries: 0 }, llm: { baseURL, model: llm.model, systemPrompt: "Be brief." } },
    store: createMemoryStore(),
    adapters: [adapter],
    logger: silentLogger(),
  });
  await bot.start();
  cleanups.push(() => bot.stop());
  return {
    bot,
    type: (line: string) => input.write(`${line}\n`),
    lines: () => screen.text.split("\n"),
    waitForScreen: <T>(condition: () => T | undefined | false, what: string, timeoutMs = 10_000) =>
      waitForCondition(changes, condition, timeoutMs, what, () => `The screen so far:\n${screen.text}`),
  };
}

describe("console: the assistant's streamed answer", () => {
  it("shows the first words while the model is still writing, then the whole answer once", async () => {
    const llm = await startFakeLlm();
    cleanups.push(() => llm.close());
    const head = "Owls hunt at night";
    const full = `${head} and see well in the dark, and they fly without a sound thanks to soft feathers.`;
    // Word by word, 10 ms apart; the gate lets the four words of `head` through, then holds.
    llm.script({ text: full, delayMs: 10 });
    const gate = await startGate(llm, head.split(" ").length);
    const chat = await startChat(gate.baseURL, llm);
    // Anything printed to the console besides the chat lands in the middle of it on a terminal.
    const warn = vi.spyOn(console, "warn");
    const error = vi.spyOn(console, "error");
    cleanups.push(async () => {
      warn.mockRestore();
      error.mockRestore();
    });

    chat.type("Tell me about owls");
    // The first words, printed as the bot's answer while the rest of the stream is held back.
    await chat.waitForScreen(() => chat.lines().includes(`bot> ${head}`), "the first words of the answer on the screen");
    // Only those four chunks reached the bot so far.
    expect(gate.passed).toBe(4);
    expect(chat.lines().some((line) => line.includes("without a sound"))).toBe(false);

    gate.release();
    await chat.waitForScreen(() => chat.lines().includes(`bot> ${full}`), "the whole answer on the screen");
    // The task ends (its status line says done): nothing posts the answer a second time.
    await chat.waitForScreen(() => chat.lines().some((line) => /^bot> \[█+\] 100%\s+✓ done$/.test(line)), "the task done");

    const answerLines = chat.lines().filter((line) => line.startsWith("bot> Owls"));
    expect(answerLines.filter((line) => line === `bot> ${full}`)).toHaveLength(1);
    expect(answerLines.at(-1)).toBe(`bot> ${full}`);
    // On a pipe each update is a line of its own: the answer as it grew, each line a longer
    // start of the same text, the first words well before the end.
    expect(answerLines.length).toBeGreaterThanOrEqual(2);
    answerLines.forEach((line, i) => {
      expect(full.startsWith(line.slice("bot> ".length)), `line ${i} is a start of the answer`).toBe(true);
      if (i > 0) expect(line.length, `line ${i} grows the answer`).toBeGreaterThan(answerLines[i - 1]!.length);
    });
    expect(chat.lines()[0]).toBe("you> Tell me about owls");
    expect([...warn.mock.calls, ...error.mock.calls].map((args) => args.map(String).join(" "))).toEqual([]);
  });
});
