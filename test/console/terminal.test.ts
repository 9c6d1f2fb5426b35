import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { KEY, newWindow, openTerminal, type TerminalSession, type TerminalWindow } from "./terminal-session.ts";

/**
 * `npm start` in a real terminal: the CLI runs in a pseudo-terminal (raw keystrokes in, escape
 * sequences out) and the assertions are on the screen a headless xterm draws from its output,
 * and on what the bot received (its `/history` answer and replies).
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function configFile(stepDelayMs: number): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "chatflow-tty-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, "chatflow.yaml");
  await writeFile(file, `store:\n  dir: ${path.join(dir, "data")}\nworkflows:\n  demo:\n    stepDelayMs: ${stepDelayMs}\nlog:\n  file: ${path.join(dir, "chatflow.log")}\n`);
  return file;
}

const BANNER = "chatflow is running: type a request, or /help.";

/** Starts the CLI as `npm start` does, in a terminal, and waits for its banner. */
async function startChat(config: string, window?: TerminalWindow): Promise<TerminalSession> {
  const session = openTerminal(process.execPath, ["--import", "tsx", "src/cli.ts", "start", "--config", config], {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1", CHATFLOW_WEB_PORT: "0", CHATFLOW_ADAPTERS: "", CHATFLOW_CONFIG: "", TERM: "xterm-256color" },
    ...(window ? { window } : {}),
  });
  cleanups.push(async () => {
    session.kill();
    await session.exited;
  });
  await session.waitFor((text) => text.includes(BANNER), "the banner");
  return session;
}

/** The screen row the cursor is on. */
const cursorRow = (session: TerminalSession) => session.rows()[session.cursor().row] ?? "";

describe("console chat in a terminal", () => {
  it("takes a 20,000-character paste whole and answers with the length limit; no task starts", async () => {
    const chat = await startChat(await configFile(20));
    chat.type("x".repeat(20_000) + KEY.enter);
    await chat.waitFor((text) => text.includes("the limit is 10,000"), "the length-limit reply", 30_000);
    expect(chat.text()).toContain("bot> Your message is 20,000 characters long; the limit is 10,000. Please send a shorter one.");
    chat.type("/status" + KEY.enter);
    await chat.waitFor((text) => /bot> .*(no task|No task)/i.test(text), "the /status answer");
    expect(chat.text()).not.toContain("Which kind of answer");
  }, 60_000);

  it("edits the line with arrows, Home/End, Ctrl-A/E/U/W; Up recalls the previous line; Ctrl-L clears the screen", async () => {
    const chat = await startChat(await configFile(20));
    await chat.press("garbage words", KEY.ctrlU, "tell me about wls", KEY.left, KEY.left, KEY.left, "o");
    await chat.press(KEY.ctrlA, "please ", KEY.ctrlE, " today extra", KEY.ctrlW, KEY.backspace, KEY.home, KEY.end, KEY.enter);
    await chat.waitFor((text) => text.includes("Which kind of answer do you want?"), "the question");
    await chat.press(KEY.up);
    await chat.waitFor(() => cursorRow(chat).includes("please tell me about owls today"), "the previous line recalled");
    await chat.press(KEY.ctrlU, "/hist", KEY.ctrlL);
    // The screen was cleared: the line being typed is on top, still there to finish.
    await chat.waitFor(() => !chat.rows().some((row) => row.includes("Which kind")) && chat.rows().some((row) => row.includes("/hist")), "the cleared screen");
    await chat.press("ory", KEY.enter);
    await chat.waitFor((text) => /bot> \d\d:\d\d you: /.test(text), "the history");
    const history = chat.rows().filter((row) => / you: /.test(row));
    expect(history.map((row) => row.replace(/^bot> \d\d:\d\d /, ""))).toEqual(["you: please tell me about owls today"]);
    // The command typed across Ctrl-L arrived whole (no form feed in it), and is on screen as typed.
    expect(chat.rows()).toContain("/history");
    // Nothing of the keys' escape sequences reached the bot.
    expect(chat.text()).not.toMatch(/\^\[|\[A|\[D/);
  }, 60_000);

  it("keeps what the person types visible while the progress bar redraws above it", async () => {
    const chat = await startChat(await configFile(400));
    chat.type("a short summary of owls" + KEY.enter);
    await chat.waitFor((text) => /\d+%\s+\S/.test(text), "the progress bar");
    chat.type("half a thought");
    // Redraws for later steps must leave the typed text on screen, on the cursor's row.
    await chat.waitFor((text) => text.includes("Drafting"), "a later step", 30_000);
    const { row } = chat.cursor();
    const rows = chat.rows();
    expect(rows[row]).toMatch(/half a thought$/);
    expect(rows[row - 1]).toMatch(/^bot> \[[█░]+\]\s+\d+%\s+Drafting$/);
    // Only one progress row: it was redrawn in place, not printed again below.
    expect(rows.filter((line) => line.includes("%  ")).length).toBe(1);
    chat.type(KEY.enter);
    await chat.waitFor((text) => text.includes("Publish this draft?"), "the review");
  }, 60_000);

  it("Ctrl-C mid-task leaves no half-drawn line; the next start's banner begins on a clean line", async () => {
    const config = await configFile(300);
    const window = newWindow();
    const first = await startChat(config, window);
    first.type("penguins" + KEY.enter);
    await first.waitFor((text) => text.includes("Which kind of answer"), "the question");
    first.type("1" + KEY.enter);
    await first.waitFor((text) => text.includes("Gathering sources"), "a running step");
    first.type(KEY.ctrlC);
    expect(await first.exited).toBe(130);
    expect(first.cursor().col).toBe(0);

    const second = await startChat(config, window);
    await second.waitFor((text) => text.includes("Publish this draft?"), "the resumed review");
    const rows = second.text().split("\n");
    // The banner starts its own row, twice (two starts), glued to nothing.
    expect(rows.filter((row) => row.startsWith(BANNER)).length).toBe(2);
    expect(rows.filter((row) => row.includes("chatflow is running")).length).toBe(2);
    // The whole banner stays on screen: a resumed task's progress redraw does not overwrite its end.
    expect(rows.filter((row) => row.includes("(tasks resume next time).")).length).toBe(2);
    second.type(KEY.ctrlC);
    expect(await second.exited).toBe(130);
  }, 60_000);
});
