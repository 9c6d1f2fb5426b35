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
 * shown while the model is still writing it, not once it is done, and the words that come
 * later are added to it, so the answer is printed once.
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

async function startChat(baseURL: string, llm: FakeLlm, tty: boolean) {
  const input = new PassThrough();
  const output = new PassThrough();
  output.setEncoding("utf8");
  const screen = { text: "" };
  const changes = new EventEmitter();
  output.on("data", (chunk: string) => {
    screen.text += chunk;
    changes.emit("change");
  });
  // A terminal, or a pipe as with `printf … | npm start`.
  const adapter = createConsoleAdapter({ input, output, tty, color: false, user: "ada", channel: "term" });
  const bot = await createBot({
    config: { tasks: { retryBaseMs: 1, stepRetries: 0 }, llm: { baseURL, model: llm.model, systemPrompt: "Be brief." } },
    store: createMemoryStore(),
    adapters: [adapter],
    logger: silentLogger(),
    env: { LLM_API_KEY: llm.apiKey },
  });
  await bot.start();
  cleanups.push(() => bot.stop());
  return {
    bot,
    type: (line: string) => input.write(`${line}\n`),
    text: () => screen.text,
    lines: () => screen.text.split("\n"),
    waitForScreen: <T>(condition: () => T | undefined | false, what: string, timeoutMs = 10_000) =>
      waitForCondition(changes, condition, timeoutMs, what, () => `The screen so far:\n${JSON.stringify(screen.text)}`),
  };
}

/** How many times `part` occurs in `text`. */
function count(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe.each([
  { mode: "a pipe", tty: false },
  { mode: "a terminal", tty: true },
])("console on $mode: the assistant's streamed answer", ({ tty }) => {
  it("shows the words as they come while the model is still writing, and the whole answer once", async () => {
    const llm = await startFakeLlm();
    cleanups.push(() => llm.close());
    const head = "Owls hunt at night";
    const full = `${head} and see well in the dark, and they fly without a sound thanks to soft feathers.`;
    // Word by word, 10 ms apart; the gate lets the four words of `head` through, then holds.
    llm.script({ text: full, delayMs: 10 });
    const gate = await startGate(llm, head.split(" ").length);
    const chat = await startChat(gate.baseURL, llm, tty);
    // Anything printed to the console besides the chat lands in the middle of it on a terminal.
    const warn = vi.spyOn(console, "warn");
    const error = vi.spyOn(console, "error");
    cleanups.push(async () => {
      warn.mockRestore();
      error.mockRestore();
    });

    chat.type("Tell me about owls");
    // The first words, on the answer's line, the last thing printed (open: more is coming),
    // while the rest of the stream is held back.
    await chat.waitForScreen(() => chat.text().endsWith(`bot> ${head}`), "the first words of the answer on the screen");
    // Only those four chunks reached the bot so far.
    expect(gate.passed).toBe(4);
    expect(chat.text()).not.toContain("without a sound");

    gate.release();
    // The task ends (its status line says done): the answer's line ends right before it.
    const done = `bot> [${"█".repeat(14)}] 100%  ✓ done`;
    await chat.waitForScreen(() => chat.text().includes(done), "the task done");
    const text = chat.text();
    // The rest of the answer went on from the first words: the whole answer is one unbroken
    // line (no redraw, nothing between its words), printed once, and the first words were
    // never printed again.
    expect(count(text, full)).toBe(1);
    expect(count(text, head)).toBe(1);
    // Nothing glued after it: its line ends, and the next one is the task's final state.
    expect(text).toContain(`\nbot> ${full}\n${done}`);
    if (!tty) expect(chat.lines()[0]).toBe("you> Tell me about owls");
    expect([...warn.mock.calls, ...error.mock.calls].map((args) => args.map(String).join(" "))).toEqual([]);
  });
});
