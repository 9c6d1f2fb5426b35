import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { sign } from "hono/jwt";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineAgent, scriptedModel, tool } from "../../src/index.ts";
import { defineWorkflow } from "../../src/tasks/workflow.ts";
import { launchBrowser, watchPage } from "./browser.ts";
import { JWT_SECRET, startWebBot, type WebBot } from "./web-setup.ts";

const RESULTS = fileURLToPath(new URL("../../test-results/", import.meta.url));
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const WAIT = { timeout: 15_000, interval: 50 };

/** A result in chatflow's markdown, with what must never become markup or a link. */
const NOTES = [
  "**Owls** are _nocturnal_ birds of prey; their order is `Strigiformes`.",
  "",
  "- Silent *flight*",
  "- Sharp hearing",
  "",
  "1. Barn owl",
  "2. Snowy owl",
  "",
  "Read [Wikipedia](https://en.wikipedia.org/wiki/Owl), https://www.audubon.org/birds or [write](mailto:owls@example.org).",
  'Not links: [a](javascript:alert(1)) [b](data:text/html,hi) <img src=x onerror="window.__xss=1"> & 1 < 2',
  "",
  "```",
  'const owl = "<b>hoot</b>"; // **not bold**',
  "```",
].join("\n");

/** /notes: a result in markdown at once, no question or review. */
const notes = defineWorkflow<{ text: string }>({
  name: "notes",
  description: "notes in markdown",
  async run() {
    return { text: NOTES };
  },
});

/** /refund: an agent whose one tool needs approval (a scripted model asks for it once, then answers). */
const refunds: number[] = [];
const refundsAgent = defineAgent({
  name: "refunds",
  description: "refunds an order",
  model: scriptedModel([{ toolCalls: [{ name: "refund", input: { amount: 30, reason: "arrived broken" } }] }, "Refunded 30."]).model,
  tools: {
    refund: tool({
      description: "Refunds an amount to the customer",
      inputSchema: z.object({ amount: z.number().positive(), reason: z.string() }),
      needsApproval: true,
      execute: async ({ amount }) => (refunds.push(amount), `refunded ${amount}`),
    }),
  },
});

let browser: Browser | undefined;
let w: WebBot;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  w = await startWebBot({
    config: { workflows: { demo: { stepDelayMs: 20 } }, routes: { default: { message: "demo", commands: { demo: "demo", notes: "notes", refund: "refunds" } } } },
    workflows: [notes, refundsAgent],
  });
  browser = await launchBrowser();
}, 60_000);

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

afterAll(async () => {
  await browser?.close();
  await w?.stop();
});

let users = 0;

/** A signed-in page of a user with no sessions yet. */
async function openSignedIn(viewport: { width: number; height: number }, colorScheme: "light" | "dark" = "light"): Promise<{ page: Page; problems: string[] }> {
  if (!browser) throw new Error("the browser did not start");
  const context = await browser.newContext({ viewport, colorScheme, reducedMotion: "reduce" });
  contexts.push(context);
  const page = await context.newPage();
  const problems = watchPage(page);
  await page.goto(`${w.url}/`);
  const jwt = await sign({ sub: `reader-${++users}`, exp: Math.floor(Date.now() / 1000) + 3600 }, JWT_SECRET, "HS256");
  await page.getByLabel("API token").fill(jwt);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("textbox", { name: "Message" }).waitFor();
  return { page, problems };
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByRole("textbox", { name: "Message" }).fill(text);
  await page.keyboard.press("Enter");
  await expect.poll(() => page.getByRole("textbox", { name: "Message" }).inputValue(), WAIT).toBe("");
}

/** The conversation a person sees: /help, a demo task answered and approved, notes in markdown. */
async function converse(page: Page): Promise<void> {
  const log = page.getByRole("log", { name: "Conversation" });
  await send(page, "/help");
  await log.getByText(/Send a message to start a task/).waitFor();
  await send(page, "owls");
  await log.getByRole("button", { name: "Short summary" }).click();
  await log.getByRole("button", { name: "Approve", exact: true }).click();
  await log.locator("article.result").waitFor();
  await send(page, "/notes");
  await expect.poll(() => log.locator("article.result").count(), WAIT).toBe(2);
}

describe("web chat page: what the bot writes, as people see it", () => {
  it("G: /help shows its commands as a list, each command in code style", async () => {
    const { page, problems } = await openSignedIn(DESKTOP);
    await send(page, "/help");
    const help = page.getByRole("log", { name: "Conversation" }).locator("article.reply", { hasText: "Send a message to start a task" });
    await help.waitFor();
    expect(await help.locator(".msg-text > p").innerText()).toBe("Send a message to start a task, or use a command:");
    const items = help.locator("ul.commands > li");
    expect(await items.count()).toBeGreaterThanOrEqual(9);
    const commands = await items.locator("code").allInnerTexts();
    expect(commands).toEqual(expect.arrayContaining(["/notes <text>", "/help", "/history [n]", "/cancel"]));
    expect(await items.filter({ has: page.locator("code", { hasText: /^\/help$/ }) }).innerText()).toBe("/help — what I can do");
    expect(await items.locator("code").first().evaluate((node) => getComputedStyle(node).fontFamily)).toMatch(/mono|consolas|menlo/i);
    expect(problems).toEqual([]);
  }, 60_000);

  it("H: a result's markdown shows as bold, italics, code, lists, a code block and safe links; everything else as text", async () => {
    const { page, problems } = await openSignedIn(DESKTOP);
    await send(page, "/notes");
    const md = page.getByRole("log", { name: "Conversation" }).locator("article.result .msg-text");
    await md.waitFor();
    expect(await md.locator("strong").allInnerTexts()).toEqual(["Owls"]);
    expect(await md.locator("em").allInnerTexts()).toEqual(["nocturnal", "flight"]);
    expect(await md.locator("p code").allInnerTexts()).toEqual(["Strigiformes"]);
    expect(await md.locator("ul > li").allInnerTexts()).toEqual(["Silent flight", "Sharp hearing"]);
    expect(await md.locator("ol > li").allInnerTexts()).toEqual(["Barn owl", "Snowy owl"]);
    expect(await md.locator("pre code").innerText()).toBe('const owl = "<b>hoot</b>"; // **not bold**');
    // Links: http(s) and mailto only, opening apart from the chat.
    const links = md.getByRole("link");
    expect(await links.allInnerTexts()).toEqual(["Wikipedia", "https://www.audubon.org/birds", "write"]);
    expect(await links.evaluateAll((as) => as.map((a) => [a.getAttribute("href"), a.getAttribute("target"), a.getAttribute("rel")]))).toEqual([
      ["https://en.wikipedia.org/wiki/Owl", "_blank", "noopener noreferrer"],
      ["https://www.audubon.org/birds", "_blank", "noopener noreferrer"],
      ["mailto:owls@example.org", "_blank", "noopener noreferrer"],
    ]);
    // The rest is text, shown as written: no script link, no element from the text.
    const text = await md.innerText();
    expect(text).toContain('Not links: [a](javascript:alert(1)) [b](data:text/html,hi) <img src=x onerror="window.__xss=1"> & 1 < 2');
    expect(await md.locator("img, b, script").count()).toBe(0);
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
    expect(problems).toEqual([]);
  }, 60_000);

  it("I: an agent's tool that needs approval: a card with the tool, its description and its input; approved, the tool runs once (screenshot in test-results/)", async () => {
    const { page, problems } = await openSignedIn(PHONE, "dark");
    await send(page, "/refund my order arrived broken");
    const log = page.getByRole("log", { name: "Conversation" });
    const card = log.locator("article", { hasText: "Allow refund?" });
    await card.waitFor();
    expect(await card.innerText()).toContain("Allow refund? (Refunds an amount to the customer)");
    const shown = await card.innerText();
    expect(shown).toContain('"amount": 30');
    expect(shown).toContain('"reason": "arrived broken"');
    // Headed as what it is: the tool's input, not a draft.
    expect(await card.locator("details > summary").innerText()).toBe("Input");
    await expect.poll(() => card.getByRole("button").allInnerTexts(), WAIT).toEqual(expect.arrayContaining(["Approve", "Reject", "Edit"]));
    await page.screenshot({ path: `${RESULTS}page-agent-approval-phone-dark.png` });
    await card.getByRole("button", { name: "Approve", exact: true }).click();
    await log.locator("article.result", { hasText: "Refunded 30." }).waitFor();
    expect(refunds).toEqual([30]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    expect(problems).toEqual([]);
  }, 60_000);

  for (const [size, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
    for (const scheme of ["light", "dark"] as const) {
      it(`${size}, ${scheme}: the conversation fits the screen (screenshots in test-results/)`, async () => {
        const { page, problems } = await openSignedIn(viewport, scheme);
        await converse(page);
        // A refused message and the focused composer, as they look.
        await page.getByRole("textbox", { name: "Message" }).fill("x".repeat(10_001));
        await page.keyboard.press("Enter");
        await expect.poll(() => page.locator("#composer-error").textContent(), WAIT).not.toBe("");
        await page.getByRole("textbox", { name: "Message" }).focus();
        await page.screenshot({ path: `${RESULTS}page-${size}-${scheme}.png` });
        await page.locator("#log").evaluate((log) => (log.scrollTop = 0));
        await page.screenshot({ path: `${RESULTS}page-${size}-${scheme}-top.png` });
        // Nothing wider than the screen, on the page or inside the conversation.
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width);
        expect(await page.locator("#log").evaluate((log) => log.scrollWidth - log.clientWidth)).toBeLessThanOrEqual(0);
        expect(problems).toEqual([]);
      }, 60_000);
    }
  }
});
