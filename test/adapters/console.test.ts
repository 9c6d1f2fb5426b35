import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createConsoleAdapter, type ConsoleAdapter, type ConsoleAdapterOptions } from "../../adapters/console/index.ts";
import type { Action, Address, InboundEvent, OutboundMessage } from "../../src/model.ts";

const to: Address = { platform: "console", channel: "test", user: "ada" };

type Bot = (event: InboundEvent, adapter: ConsoleAdapter) => Promise<void> | void;

/** Answers every line with a short reply, like the engine does. */
const replyingBot: Bot = async (event, adapter) => {
  const what = event.kind === "message" ? event.text : event.kind === "command" ? `/${event.name}` : event.actionId;
  await adapter.send(to, { kind: "reply", text: `got ${what}` });
};

const running: ConsoleAdapter[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((adapter) => adapter.stop()));
});

async function chat(options: Partial<ConsoleAdapterOptions> = {}, bot: Bot = replyingBot) {
  const input = new PassThrough();
  const output = new PassThrough();
  output.setEncoding("utf8");
  let screen = "";
  output.on("data", (chunk: string) => (screen += chunk));
  const adapter = createConsoleAdapter({ input, output, tty: false, user: "ada", channel: "test", ...options });
  running.push(adapter);
  const events: InboundEvent[] = [];
  await adapter.start(async (event) => {
    events.push(event);
    await bot(event, adapter);
  });
  return {
    adapter,
    events,
    type: (...lines: string[]) => input.write(lines.map((line) => `${line}\n`).join("")),
    end: () => input.end(),
    /** Everything printed so far, after pending stream callbacks ran. */
    screen: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return screen;
    },
  };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 20));
const choice = (id: string, label: string): Action => ({ id, label, role: "choice" });
const question: OutboundMessage = {
  kind: "question",
  text: "Which period?",
  actions: [choice("q-week", "This week"), choice("q-month", "This month")],
  taskId: "t1",
};
const review: OutboundMessage = {
  kind: "review",
  text: "Publish this draft?",
  review: { data: "Cats sleep **16 hours** a day.\nThe end." },
  actions: [
    { id: "r-ok", label: "Approve", role: "approve", style: "primary" },
    { id: "r-no", label: "Reject", role: "reject", style: "danger" },
    { id: "r-edit", label: "Edit", role: "edit" },
  ],
  taskId: "t1",
};

describe("console adapter: input", () => {
  it("turns lines into commands and messages with unique ids and the console address", async () => {
    const { adapter, events, type, end } = await chat();
    type("/History   5 ", "", "   ", "hello there", "/STATUS", "/");
    end();
    await adapter.ended;
    expect(events.map(({ id: _id, address: _address, raw: _raw, ...rest }) => rest)).toEqual([
      { kind: "command", name: "history", args: "5" },
      { kind: "message", text: "hello there" },
      { kind: "command", name: "status", args: "" },
      { kind: "message", text: "/" },
    ]);
    expect(new Set(events.map((event) => event.id)).size).toBe(4);
    for (const event of events) {
      expect(event.id).toMatch(/^console-\d+-\d+$/);
      expect(event.address).toEqual({ platform: "console", channel: "test", user: "ada", direct: true });
    }
    expect(adapter.platform).toBe("console");
    expect(adapter.capabilities).toEqual({ editIntervalMs: 250, maxTextLength: 100_000, persistentMessages: false });
  });

  it("maps typed answers to the last question's or review's actions", async () => {
    // The bot asks again after each answer, so every typed line has something to answer.
    // What the bot sends after each answer: asks again, then reviews, then posts the result.
    const afterAnswer: OutboundMessage[] = [question, question, review, review, review, review, review, { kind: "result", text: "Published.", taskId: "t1" }];
    const { adapter, events, type, end } = await chat({}, async (event, bot) => {
      if (event.kind === "action") await bot.send(to, afterAnswer.shift() ?? { kind: "reply", text: "ok" });
      else if (event.kind === "message" && event.text === "start") await bot.send(to, question);
      else await bot.send(to, { kind: "reply", text: "Please pick one of the choices." });
    });
    type("start", "2", "maybe later", "this MONTH", "1", "approve", "reject too long, cut it", "reject", "edit", "yes", "1");
    end();
    await adapter.ended;
    expect(events.map(({ id: _id, address: _address, raw: _raw, ...rest }) => rest)).toEqual([
      { kind: "message", text: "start" },
      { kind: "action", actionId: "q-month" },
      { kind: "message", text: "maybe later" }, // not an answer: the engine replies with a hint
      { kind: "action", actionId: "q-month" },
      { kind: "action", actionId: "q-week" },
      { kind: "action", actionId: "r-ok" },
      { kind: "action", actionId: "r-no", feedback: "too long, cut it" },
      { kind: "action", actionId: "r-no" },
      { kind: "action", actionId: "r-edit" },
      { kind: "action", actionId: "r-ok" },
      // The review was answered and the result came: "1" is just text now.
      { kind: "message", text: "1" },
    ]);
  });

  it("forgets a question once it is answered, and numbers out of range stay messages", async () => {
    const { adapter, events, type, end } = await chat({}, async (event, bot) => {
      await bot.send(to, event.kind === "message" && event.text === "ask" ? question : { kind: "reply", text: "ok" });
    });
    type("ask", "3", "1", "2");
    end();
    await adapter.ended;
    expect(events.slice(1).map((event) => (event.kind === "action" ? event.actionId : event.kind))).toEqual(["message", "q-week", "message"]);
  });
});

describe("console adapter: rendering", () => {
  it("shows a question with numbered choices and a hint", async () => {
    const { adapter, screen } = await chat();
    await adapter.send(to, question);
    await adapter.send(to, { kind: "question", text: "What is the topic?", expectsText: true });
    expect(await screen()).toBe(
      [
        "bot> Which period?",
        "  1) This week",
        "  2) This month",
        "  (type a number, or /cancel)",
        "bot> What is the topic?",
        "  (type your answer)",
        "",
      ].join("\n"),
    );
  });

  it("shows a review with the draft between rules and the words to type", async () => {
    const { adapter, screen } = await chat();
    await adapter.send(to, review);
    const rule = "  " + "─".repeat(40);
    expect(await screen()).toBe(
      ["bot> Publish this draft?", rule, "  Cats sleep **16 hours** a day.", "  The end.", rule, "  approve | reject [reason] | edit", ""].join("\n"),
    );
  });

  it("shows a result with numbered links and strips markdown without a tty", async () => {
    const { adapter, screen } = await chat();
    await adapter.send(to, {
      kind: "result",
      text: "**Report** on _cats_ is ready.\nRun `chatflow start` again; see snake_case_names.",
      links: [{ url: "https://example.com/a", title: "Cat facts" }, { url: "https://example.com/b" }],
    });
    expect(await screen()).toBe(
      [
        "bot> Report on cats is ready.",
        "bot> Run `chatflow start` again; see snake_case_names.",
        "  [1] Cat facts — https://example.com/a",
        "  [2] https://example.com/b",
        "",
      ].join("\n"),
    );
  });

  it("uses ANSI bold, italic and a dim prefix when color is on", async () => {
    const { adapter, screen } = await chat({ tty: true, color: true });
    await adapter.send(to, { kind: "reply", text: "**Done** in _2 s_" });
    expect(await screen()).toBe("\x1b[2mbot> \x1b[22m\x1b[1mDone\x1b[22m in \x1b[3m2 s\x1b[23m\n");
  });

  it("prints a handler's error briefly and goes on with the next line", async () => {
    const { adapter, events, type, end, screen } = await chat({}, async (event, bot) => {
      if (event.kind === "message" && event.text === "boom") throw new Error("store unavailable");
      await replyingBot(event, bot);
    });
    type("boom", "hello");
    end();
    await adapter.ended;
    expect(events).toHaveLength(2);
    expect(await screen()).toBe(['you> boom', '! could not handle "boom": store unavailable', "you> hello", "bot> got hello", ""].join("\n"));
  });
});

describe("console adapter: progress", () => {
  const status = (percent: number, step: string, state: "running" | "completed" = "running"): OutboundMessage => ({
    kind: "status",
    text: "Working on the report",
    progress: { percent, step, state },
    taskId: "t1",
  });

  it("redraws the bar in place on a tty and ends the line before other output", async () => {
    const { adapter, screen } = await chat({ tty: true, color: false });
    const { id } = await adapter.send(to, status(10, "Collecting sources"));
    await adapter.edit!(to, id, status(40, "Drafting"));
    await adapter.edit!(to, id, status(40, "Drafting")); // unchanged: nothing drawn
    await adapter.edit!(to, id, status(100, "Drafting", "completed"));
    await adapter.send(to, { kind: "result", text: "Here is the report." });
    await adapter.edit!(to, id, status(100, "Drafting", "completed")); // unchanged
    const clear = "\r\x1b[2K";
    expect(await screen()).toBe(
      "bot> [█░░░░░░░░░░░░░]  10%  Collecting sources" +
        clear +
        "bot> [██████░░░░░░░░]  40%  Drafting" +
        clear +
        "bot> [██████████████] 100%  ✓ done" +
        "\nbot> Here is the report.\n",
    );
    expect(adapter.capabilities.editIntervalMs).toBe(100);
  });

  it("prints the bar again on a new line on a tty when something was printed after it", async () => {
    const { adapter, screen } = await chat({ tty: true, color: false });
    const { id } = await adapter.send(to, status(20, "Collecting"));
    await adapter.send(to, { kind: "notice", text: "Scheduled: daily digest" });
    await adapter.edit!(to, id, status(60, "Writing"));
    await adapter.stop();
    expect(await screen()).toBe(
      "bot> [███░░░░░░░░░░░]  20%  Collecting\nbot> Scheduled: daily digest\nbot> [████████░░░░░░]  60%  Writing\n",
    );
  });

  it("prints plain lines without duplicates when not a tty", async () => {
    const { adapter, screen } = await chat();
    const { id } = await adapter.send(to, status(0, "Queued work"));
    for (const percent of [40, 40, 40, 80]) await adapter.edit!(to, id, status(percent, "Drafting"));
    await adapter.edit!(to, id, { ...status(80, "Drafting"), progress: { percent: 80, state: "waiting" } });
    await adapter.edit!(to, id, { ...status(80, "Drafting"), progress: { percent: 80, state: "failed" } });
    const output = await screen();
    expect(output).toBe(
      [
        "bot> [░░░░░░░░░░░░░░]   0%  Queued work",
        "bot> [██████░░░░░░░░]  40%  Drafting",
        "bot> [███████████░░░]  80%  Drafting",
        "bot> [███████████░░░]  80%  waiting for your answer",
        "bot> [███████████░░░]  80%  ✗ failed",
        "",
      ].join("\n"),
    );
    expect(output).not.toContain("\r");
  });
});

describe("console adapter: pacing and end of input", () => {
  it("pipe mode holds lines until the answer and lets a command through to a running task", async () => {
    let statusId = "";
    const { adapter, events, type, end, screen } = await chat({}, async (event, bot) => {
      // Like the engine: a request starts a task, which only posts its status message for now.
      if (event.kind === "message" && event.text === "write a report") {
        statusId = (await bot.send(to, { kind: "status", text: "report", progress: { percent: 0, step: "Starting", state: "running" } })).id;
      }
    });
    let ended = false;
    void adapter.ended.then(() => (ended = true));
    type("write a report", "/status", "1");
    end();
    await flush();
    // Only status came: the command goes through, the plain line waits.
    expect(events.map((event) => event.kind)).toEqual(["message", "command"]);
    await adapter.edit!(to, statusId, { kind: "status", text: "report", progress: { percent: 30, step: "Collecting", state: "running" } });
    await flush();
    expect(events).toHaveLength(2);
    // The question arrives: "1" is handed over now, and answers it.
    await adapter.send(to, question);
    await flush();
    expect(events[2]).toMatchObject({ kind: "action", actionId: "q-week" });
    expect(ended).toBe(false);
    await adapter.send(to, { kind: "result", text: "Done." });
    await adapter.ended;
    expect(await screen()).toBe(
      [
        "you> write a report",
        "bot> [░░░░░░░░░░░░░░]   0%  Starting",
        "you> /status",
        "bot> [████░░░░░░░░░░]  30%  Collecting",
        "bot> Which period?",
        "  1) This week",
        "  2) This month",
        "  (type a number, or /cancel)",
        "you> 1",
        "bot> Done.",
        "",
      ].join("\n"),
    );
  });

  it("a tty hands lines over at once, one handler call at a time", async () => {
    let active = 0;
    let most = 0;
    const { events, type } = await chat({ tty: true }, async () => {
      active += 1;
      most = Math.max(most, active);
      await new Promise((resolve) => setTimeout(resolve, 5));
      active -= 1;
    });
    type("one", "two", "/three");
    await vi.waitFor(() => expect(events).toHaveLength(3));
    expect(most).toBe(1);
  });

  it("ended resolves at EOF when nothing was typed", async () => {
    const { adapter, end } = await chat();
    end();
    await adapter.ended;
  });

  it("ended waits for the answer to the last line", async () => {
    const { adapter, events, type, end } = await chat({ tty: true }, () => {});
    let ended = false;
    void adapter.ended.then(() => (ended = true));
    type("hello");
    end();
    await vi.waitFor(() => expect(events).toHaveLength(1));
    await flush();
    expect(ended).toBe(false);
    await adapter.send(to, { kind: "reply", text: "hi" });
    await adapter.ended;
  });

  it("stop() finishes the current line and drops the rest", async () => {
    let finished = false;
    const { adapter, events, type } = await chat({ tty: true }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      finished = true;
    });
    type("first", "second");
    await vi.waitFor(() => expect(events).toHaveLength(1));
    await adapter.stop();
    expect(finished).toBe(true);
    await adapter.ended;
    await flush();
    expect(events).toHaveLength(1);
  });
});

describe("console adapter: a streamed answer", () => {
  // How the engine streams a model's answer (src/tasks/streamed-message.ts): one send with
  // the first words, then edits of that message with the whole text so far.
  const reply = (text: string): OutboundMessage => ({ kind: "reply", text, taskId: "t1" });
  const status = (percent: number, step: string, state: "running" | "completed" = "running"): OutboundMessage => ({
    kind: "status",
    text: "Asking the model",
    progress: { percent, step, state },
    taskId: "t1",
  });

  /** Extends, holds back a split `**`, restarts, is cut by a notice, goes on, ends with the task; then a plain reply. */
  async function stream(adapter: ConsoleAdapter): Promise<void> {
    const { id: statusId } = await adapter.send(to, status(0, "Starting"));
    const { id } = await adapter.send(to, reply("Owls"));
    await adapter.edit!(to, id, reply("Owls hunt at"));
    await adapter.edit!(to, statusId, status(50, "Writing")); // held back while the answer grows
    await adapter.edit!(to, id, reply("Owls hunt at night. **So"));
    await adapter.edit!(to, id, reply("Owls hunt at night. **Soft** feathers"));
    await adapter.edit!(to, id, reply("Owls hunt at night. **Soft** feathers")); // unchanged: nothing
    await adapter.edit!(to, id, reply("Owls fly")); // a retried model call starts over
    await adapter.edit!(to, id, reply("Owls fly silently.\nThey hunt at night."));
    await adapter.send(to, { kind: "notice", text: "Scheduled: daily digest" });
    await adapter.edit!(to, id, reply("Owls fly silently.\nThey hunt at night. And more."));
    await adapter.edit!(to, statusId, status(100, "Writing", "completed"));
    await adapter.send(to, { kind: "reply", text: "got it" });
  }

  it("pipe mode: prints each new part once, marks a restart and ends the line before anything else", async () => {
    const { adapter, screen } = await chat();
    await stream(adapter);
    expect(await screen()).toBe(
      [
        "bot> [░░░░░░░░░░░░░░]   0%  Starting",
        "bot> Owls hunt at night. Soft feathers",
        "bot> [███████░░░░░░░]  50%  Writing",
        "  (answer restarted)",
        "bot> Owls fly silently.",
        "bot> They hunt at night.",
        "bot> Scheduled: daily digest",
        "bot> … And more.",
        "bot> [██████████████] 100%  ✓ done",
        "bot> got it",
        "",
      ].join("\n"),
    );
  });

  it("pipe mode: the words come as they arrive, on the answer's open line", async () => {
    const { adapter, screen } = await chat();
    const { id } = await adapter.send(to, reply("Owls"));
    expect(await screen()).toBe("bot> Owls");
    await adapter.edit!(to, id, reply("Owls hunt at night, `quietly"));
    // The unclosed code span waits: printed now, its backtick could not be taken back.
    expect(await screen()).toBe("bot> Owls hunt at night,");
    await adapter.edit!(to, id, reply("Owls hunt at night, `quietly`.\n\n"));
    expect(await screen()).toBe("bot> Owls hunt at night, `quietly`.");
    await adapter.edit!(to, id, reply("Owls hunt at night, `quietly`.\n\nThe end."));
    expect(await screen()).toBe("bot> Owls hunt at night, `quietly`.\nbot>\nbot> The end.");
    await adapter.stop();
    expect(await screen()).toBe("bot> Owls hunt at night, `quietly`.\nbot>\nbot> The end.\n");
  });

  it("tty: the answer grows on its line, the bar is drawn again below it", async () => {
    const { adapter, screen } = await chat({ tty: true, color: false });
    await stream(adapter);
    expect(await screen()).toBe(
      "bot> [░░░░░░░░░░░░░░]   0%  Starting" +
        "\nbot> Owls" +
        " hunt at" +
        " night." +
        " Soft feathers" +
        "\nbot> [███████░░░░░░░]  50%  Writing" +
        "\n  (answer restarted)\nbot> Owls fly" +
        " silently.\nbot> They hunt at night." +
        "\nbot> Scheduled: daily digest\n" +
        "bot> … And more." +
        "\nbot> [██████████████] 100%  ✓ done" +
        "\nbot> got it\n",
    );
  });

  it("tty: the person's Enter ends the answer's line; the rest goes on below", async () => {
    const input = new PassThrough();
    Object.assign(input, { isTTY: true });
    const { adapter, events, screen } = await chat({ tty: true, color: false, input }, () => {});
    const { id } = await adapter.send(to, reply("Owls **hunt"));
    input.write("/status\n");
    await vi.waitFor(() => expect(events).toHaveLength(1));
    await adapter.edit!(to, id, reply("Owls **hunt** at night"));
    await adapter.stop();
    // The terminal echoed "/status⏎" after "bot> Owls" (not captured here): the answer goes on
    // below it, the held back "**hunt" styled once its marker closed.
    expect(await screen()).toBe("bot> Owls" + "bot> … hunt at night\n");
  });

  it("tty: what was held back of a cut answer is printed when the task ends", async () => {
    const input = new PassThrough();
    Object.assign(input, { isTTY: true });
    const { adapter, events, screen } = await chat({ tty: true, color: false, input }, () => {});
    const { id: statusId } = await adapter.send(to, status(10, "Writing"));
    const { id } = await adapter.send(to, reply("Owls **hunt"));
    await adapter.edit!(to, statusId, status(60, "Writing")); // held back: the answer is still the current block
    input.write("/status\n");
    await vi.waitFor(() => expect(events).toHaveLength(1));
    await adapter.edit!(to, id, reply("Owls **hunt")); // unchanged
    await adapter.edit!(to, statusId, status(100, "Writing", "completed"));
    await adapter.stop();
    expect(await screen()).toBe(
      "bot> [█░░░░░░░░░░░░░]  10%  Writing" + "\nbot> Owls" + "bot> … **hunt\n" + "bot> [██████████████] 100%  ✓ done\n",
    );
  });

  it("styles markdown split across edits as if the answer came whole", async () => {
    const texts = [
      "Run `npm start` now, **then** _wait_ for snake_case_names, __dunder__, * a star, 2 ** 3 and `x`_y_.\n" +
        "A **bold _and italic_** line, `unclosed and _open\n\nThe **end**.",
      // Nothing settled until the end: printed when the answer's line ends.
      "**Note `a** _b",
    ];
    for (const [text, color] of texts.flatMap((text) => [false, true].map((color) => [text, color] as const))) {
      const whole = await chat({ tty: true, color });
      await whole.adapter.send(to, { kind: "reply", text });
      const grown = await chat({ tty: true, color });
      const { id } = await grown.adapter.send(to, reply(text.slice(0, 1)));
      for (let length = 2; length <= text.length; length++) await grown.adapter.edit!(to, id, reply(text.slice(0, length)));
      await grown.adapter.stop();
      expect(await grown.screen()).toBe(await whole.screen());
      expect(await grown.screen()).not.toContain("answer restarted");
    }
  });
});
