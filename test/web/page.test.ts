import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { sign } from "hono/jwt";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, startFlakyProxy, watchPage, type FlakyProxy } from "./browser.ts";
import { JWT_SECRET, startWebBot, TOKENS, type WebBot } from "./web-setup.ts";

const RESULTS = fileURLToPath(new URL("../../test-results/", import.meta.url));
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const WAIT = { timeout: 15_000, interval: 50 };

let browser: Browser | undefined;
let w: WebBot;
const contexts: BrowserContext[] = [];
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  // Steps slow enough to see the bar move, fast enough for a test.
  w = await startWebBot({ config: { workflows: { demo: { stepDelayMs: 150 } } } });
  browser = await launchBrowser();
}, 60_000);

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

afterAll(async () => {
  await browser?.close();
  await w?.stop();
});

async function openPage(viewport: { width: number; height: number }, url = w.url, colorScheme: "light" | "dark" = "light"): Promise<{ page: Page; problems: string[] }> {
  if (!browser) throw new Error("the browser did not start");
  const context = await browser.newContext({ viewport, colorScheme, reducedMotion: "reduce" });
  contexts.push(context);
  const page = await context.newPage();
  const problems = watchPage(page);
  await page.goto(`${url}/`);
  return { page, problems };
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("textbox", { name: "Message" }).waitFor();
}

async function newSession(page: Page): Promise<void> {
  const toggle = page.getByRole("button", { name: "Sessions" });
  if (await toggle.isVisible()) {
    // A phone: the side list is collapsed behind its button.
    expect(await page.getByRole("navigation", { name: "Sessions" }).isVisible()).toBe(false);
    await toggle.click();
    expect(await toggle.getAttribute("aria-expanded")).toBe("true");
  }
  const before = await page.locator("#session-list li").count();
  await page.getByRole("button", { name: "New session" }).click();
  await expect.poll(() => page.locator("#session-list li").count(), WAIT).toBe(before + 1);
  await expect.poll(() => page.locator('#session-list [aria-current="true"]').count(), WAIT).toBe(1);
  if (await toggle.isVisible()) expect(await page.getByRole("navigation", { name: "Sessions" }).isVisible()).toBe(false);
}

/** A signed JWT of a user of its own (no sessions yet). */
async function userToken(sub: string): Promise<string> {
  return sign({ sub, exp: Math.floor(Date.now() / 1000) + 3600 }, JWT_SECRET, "HS256");
}

/** Types `text` in the message box and presses Enter. */
async function type(page: Page, text: string): Promise<void> {
  await page.getByRole("textbox", { name: "Message" }).fill(text);
  await page.getByRole("textbox", { name: "Message" }).press("Enter");
}

/** Opens a session from the side list (behind its button on a phone). */
async function openSession(page: Page, id: string): Promise<void> {
  const toggle = page.getByRole("button", { name: "Sessions" });
  if (await toggle.isVisible()) await toggle.click();
  await page.locator(`#session-list [data-id="${id}"]`).click();
  await expect.poll(() => page.locator('#session-list [aria-current="true"]').getAttribute("data-id"), WAIT).toBe(id);
}

/** sRGB `rgb(r, g, b)` → relative luminance (WCAG). */
function luminance(css: string): number {
  const [r, g, b] = (css.match(/[\d.]+/g) ?? []).slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

/** The progress bar's value now; each new value is noted in `seen`. */
async function sample(page: Page, seen: number[]): Promise<number> {
  const raw = await page.getByRole("progressbar").getAttribute("aria-valuenow");
  const value = Number(raw);
  if (raw !== null && seen.at(-1) !== value) seen.push(value);
  return value;
}

/** Waits for `locator` to be visible, sampling the progress bar meanwhile. */
async function visibleWhileSampling(page: Page, selector: () => ReturnType<Page["locator"]>, seen: number[]): Promise<void> {
  await expect
    .poll(async () => {
      if (await page.getByRole("progressbar").isVisible()) await sample(page, seen);
      return selector().isVisible();
    }, WAIT)
    .toBe(true);
}

const EDITED = "Owls hunt at night.\nTheir feathers make their flight silent.";
const FEEDBACK = "Shorter, please";

/** Sign in, start a session, ask for "owls", answer, edit the draft at review, see the result. */
async function coreFlow(page: Page, token: string, screenshot: string): Promise<void> {
  await signIn(page, token);
  await newSession(page);
  const box = page.getByRole("textbox", { name: "Message" });
  await box.fill("owls");
  await page.getByRole("button", { name: "Send", exact: true }).click();
  const log = page.getByRole("log", { name: "Conversation" });
  await log.locator("article.user", { hasText: "owls" }).waitFor();

  const seen: number[] = [];
  const choice = () => log.getByRole("button", { name: "Short summary" });
  await visibleWhileSampling(page, choice, seen);
  await expect.poll(() => page.locator("#task-state").textContent(), WAIT).toContain("Waiting for you");
  await choice().click();
  await log.getByText("Answered: Short summary").waitFor();

  const edit = () => log.getByRole("button", { name: "Edit" });
  await visibleWhileSampling(page, edit, seen);
  const review = log.locator("article.review");
  expect(await review.locator("pre").textContent()).toBe("owls: the essentials in three points.\n1. What it is.\n2. Why it matters.\n3. What to read next.");
  await edit().click();
  const corrected = review.getByLabel("Corrected text");
  await expect.poll(() => corrected.inputValue(), WAIT).toContain("owls: the essentials");
  await corrected.fill(EDITED);
  await review.getByLabel("Feedback (optional)").fill(FEEDBACK);
  await review.getByRole("button", { name: "Approve with changes" }).click();
  await log.getByText(`Approved with changes — feedback: ${FEEDBACK}`).waitFor();

  const result = () => log.locator("article.result");
  await visibleWhileSampling(page, result, seen);
  await expect.poll(() => sample(page, seen), WAIT).toBe(100);
  await expect.poll(() => page.locator("#task-state").textContent(), WAIT).toContain("Completed");

  // The bar moved up as progress came in: several values, never down, ending full.
  expect(seen.length, `progress values seen: ${seen.join(", ")}`).toBeGreaterThanOrEqual(3);
  expect(seen.every((v, i) => i === 0 || v >= seen[i - 1]!), `progress values seen: ${seen.join(", ")}`).toBe(true);
  expect(seen[0]!).toBeLessThanOrEqual(5);

  // The result is the edited text with the feedback noted, and its references are real links.
  expect(await result().locator(".msg-text").innerText()).toBe(`${EDITED}\n\nNoted your feedback: ${FEEDBACK}`);
  // The draft the edit replaced folds away once the result shows the edited text.
  await expect.poll(() => review.locator("summary").innerText(), WAIT).toBe("Original draft (edited below)");
  expect(await review.locator("pre").isVisible()).toBe(false);
  const links = result().getByRole("link");
  expect(await links.count()).toBe(2);
  expect(await links.nth(0).getAttribute("href")).toBe("https://en.wikipedia.org/wiki/Special:Search?search=owls");
  expect(await links.nth(1).getAttribute("href")).toBe("https://openlibrary.org/search?q=owls");
  expect(await links.nth(0).textContent()).toBe("Wikipedia: owls");
  // Each thing once (the feed carries both history messages and typed events).
  expect(await log.locator("article.user").count()).toBe(1);
  expect(await log.locator("article.question").count()).toBe(1);
  expect(await log.locator("article.review").count()).toBe(1);
  expect(await result().count()).toBe(1);
  expect(await page.getByRole("button", { name: "Cancel task" }).isVisible()).toBe(false);
  // The session got its name from the request.
  await expect.poll(() => page.locator('#session-list [aria-current="true"] .session-name').textContent(), WAIT).toBe("owls");

  await page.screenshot({ path: `${RESULTS}${screenshot}` });
}

describe("web chat page (headless Chromium)", () => {
  it("desktop: sign in, new session, progress, a choice, review with edit, result with links", async () => {
    const { page, problems } = await openPage(DESKTOP);
    await coreFlow(page, TOKENS.alice, "web-page-desktop.png");
    // Both columns at once on a desktop.
    expect(await page.getByRole("navigation", { name: "Sessions" }).isVisible()).toBe(true);
    expect(await page.getByRole("button", { name: "Sessions" }).isVisible()).toBe(false);
    expect(problems).toEqual([]);
  }, 60_000);

  it("phone (390×844): the same flow, with the side list collapsed", async () => {
    const { page, problems } = await openPage(PHONE);
    await coreFlow(page, TOKENS.bob, "web-page-phone.png");
    // Nothing wider than the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    expect(problems).toEqual([]);
  }, 60_000);

  it("a wrong token shows the server's message and stays on the sign-in form", async () => {
    const { page, problems } = await openPage(DESKTOP);
    await page.getByLabel("API token").fill("not-the-right-token-0123");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator("#signin-error").textContent(), WAIT).toBe("The token is not valid.");
    expect(await page.getByRole("alert").filter({ hasText: "The token is not valid." }).count()).toBe(1);
    expect(await page.getByLabel("API token").isVisible()).toBe(true);
    expect(await page.getByRole("textbox", { name: "Message" }).isVisible()).toBe(false);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(problems).toEqual([]);
  }, 30_000);

  it("keyboard only: sign in, tab to the message box, type, Enter sends; sign out", async () => {
    // A JWT this time (user carol, who has no sessions yet).
    const jwt = await sign({ sub: "carol", exp: Math.floor(Date.now() / 1000) + 3600 }, JWT_SECRET, "HS256");
    const { page, problems } = await openPage(DESKTOP);
    await page.getByLabel("API token").waitFor();
    await page.keyboard.type(jwt);
    await page.keyboard.press("Enter");
    await page.getByRole("textbox", { name: "Message" }).waitFor();
    // From the top of the page, Tab until the message box has focus.
    await page.locator("body").focus();
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    let tabs = 0;
    while ((await page.evaluate(() => document.activeElement?.id)) !== "message") {
      expect(++tabs, "Tab never reached the message box").toBeLessThan(40);
      await page.keyboard.press("Tab");
    }
    await page.keyboard.type("/help");
    await page.keyboard.press("Enter");
    const log = page.getByRole("log", { name: "Conversation" });
    await log.locator("article.user", { hasText: "/help" }).waitFor();
    await log.getByText(/Send a message to start a task/).waitFor();
    expect(await page.getByRole("textbox", { name: "Message" }).inputValue()).toBe("");
    // Sending made a session (there was none) and focus stays in the box.
    expect(await page.locator("#session-list li").count()).toBe(1);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("message");
    // The session list's rename works from the keyboard too.
    await page.getByRole("button", { name: "Rename" }).focus();
    await page.keyboard.press("Enter");
    await page.keyboard.press("Control+A");
    await page.keyboard.type("Help session");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#chat-title").textContent(), WAIT).toBe("Help session");
    await expect.poll(() => page.locator("#session-list .session-name").first().textContent(), WAIT).toBe("Help session");
    // Sign out: back to the form, the token forgotten.
    await page.getByRole("button", { name: "Sign out" }).focus();
    await page.keyboard.press("Enter");
    await page.getByLabel("API token").waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem("chatflow.token"))).toBeNull();
    expect(problems).toEqual([]);
  }, 60_000);

  it("cancel while a task runs; a streamed reply updates in place; delete a session", async () => {
    const jwt = await sign({ sub: "dave", exp: Math.floor(Date.now() / 1000) + 3600 }, JWT_SECRET, "HS256");
    const { page, problems } = await openPage(DESKTOP);
    await signIn(page, jwt);
    await newSession(page);
    await page.getByRole("textbox", { name: "Message" }).fill("owls");
    await page.keyboard.press("Enter");
    const log = page.getByRole("log", { name: "Conversation" });
    await log.getByRole("button", { name: "Short summary" }).waitFor();
    await page.getByRole("button", { name: "Cancel task" }).click();
    await expect.poll(() => page.locator("#task-state").textContent(), WAIT).toContain("Cancelled");
    await log.getByText("Not answered: the task was cancelled.").waitFor();
    expect(await log.getByRole("button", { name: "Short summary" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Cancel task" }).isVisible()).toBe(false);

    // A streamed answer: later replies with the same messageId replace the text.
    const sessionId = (await page.locator('#session-list [aria-current="true"]').getAttribute("data-id"))!;
    for (const text of ["Owls are", "Owls are birds", "Owls are birds of prey."]) {
      await w.bot.events.publish({ type: "reply", sessionId, data: { messageId: "r-stream-1", kind: "reply", text } });
      await log.getByText(text, { exact: true }).waitFor();
    }
    expect(await log.locator("article.reply").count()).toBe(1);
    expect(await log.locator("article.reply .msg-text").textContent()).toBe("Owls are birds of prey.");

    // Delete (after a confirmation): the session leaves the list.
    expect(await page.locator("#session-list li").count()).toBe(1);
    await page.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("group", { name: /Delete this session/ }).getByRole("button", { name: "Delete" }).click();
    await expect.poll(() => page.locator("#session-list li").count(), WAIT).toBe(0);
    expect(await page.locator("#chat-title").textContent()).toBe("No session selected");
    expect((await w.call("GET", `/api/v1/sessions/${sessionId}`, { token: jwt })).body.state).toBe("closed");
    expect(problems).toEqual([]);
  }, 60_000);

  it("reconnects after the event stream drops, with the last seq: nothing lost, nothing twice", async () => {
    const proxy: FlakyProxy = await startFlakyProxy(w.url);
    cleanups.push(() => proxy.close());
    const { page, problems } = await openPage(DESKTOP, proxy.url);
    await signIn(page, TOKENS.alice);
    await newSession(page);
    await page.getByRole("textbox", { name: "Message" }).fill("owls");
    await page.keyboard.press("Enter");
    const log = page.getByRole("log", { name: "Conversation" });
    await log.getByRole("button", { name: "Detailed report" }).waitFor();
    const sessionId = await page.locator('#session-list [aria-current="true"]').getAttribute("data-id");
    const tasks = await w.call("GET", `/api/v1/tasks?session=${sessionId}`);
    const taskId: string = tasks.body.items[0].id;

    // The stream drops; meanwhile the question is answered elsewhere and the task reaches its review.
    proxy.cut();
    await expect.poll(() => page.locator("#connection").getAttribute("data-state"), WAIT).toBe("reconnecting");
    expect(await page.locator("#connection").innerText()).toBe("Reconnecting…");
    expect((await w.call("POST", `/api/v1/tasks/${taskId}/answer`, { body: { choice: "Detailed report" } })).status).toBe(200);
    await expect.poll(async () => (await w.call("GET", `/api/v1/tasks/${taskId}`)).body.waitingFor?.kind, WAIT).toBe("review");
    expect(await log.locator("article.review").count()).toBe(0);
    proxy.resume();

    // Back: what was missed arrives, once.
    await log.getByRole("button", { name: "Approve", exact: true }).click();
    await log.locator("article.result").waitFor();
    await expect.poll(() => page.locator("#connection").getAttribute("data-state"), WAIT).toBe("connected");
    expect(await page.locator("#connection").innerText()).toBe("Connected");
    const seqs = proxy.feedRequests.filter((id) => id !== undefined).map(Number);
    expect(seqs.length).toBeGreaterThanOrEqual(1);
    expect(seqs.every((seq) => seq > 0)).toBe(true);
    expect(await log.getByText("Answered: Detailed report").count()).toBe(1);
    expect(await log.locator("article.user").count()).toBe(1);
    expect(await log.locator("article.question").count()).toBe(1);
    expect(await log.locator("article.review").count()).toBe(1);
    expect(await log.locator("article.result").count()).toBe(1);
    expect(await log.locator("article.result .msg-text").textContent()).toContain("Report: owls");
    expect(await log.locator("article.result").getByRole("link").count()).toBe(2);
    expect(problems).toEqual([]);
  }, 60_000);

  it("A: offline, the header says so and a send fails with its text kept; back online, the header says connected and the failure line goes", async () => {
    const proxy: FlakyProxy = await startFlakyProxy(w.url);
    cleanups.push(() => proxy.close());
    const { page, problems } = await openPage(PHONE, proxy.url);
    await signIn(page, await userToken("fay"));
    await newSession(page);
    const connection = page.locator("#connection");
    await expect.poll(() => connection.getAttribute("data-state"), WAIT).toBe("connected");
    expect(await connection.innerText()).toBe("Connected");

    // The network goes: the live stream drops and nothing gets through.
    await page.context().setOffline(true);
    proxy.cut();
    await expect.poll(() => connection.innerText(), WAIT).toBe("Offline");
    // The word fits a phone's header (it takes the name's place).
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    const box = page.getByRole("textbox", { name: "Message" });
    await type(page, "owls");
    await expect.poll(() => page.locator("#composer-error").textContent(), WAIT).toContain("can't be reached");
    expect(await box.inputValue()).toBe("owls");
    await page.screenshot({ path: `${RESULTS}web-page-offline-phone.png` });

    // Back: the header says so, and the line about the failure is gone.
    proxy.resume();
    await page.context().setOffline(false);
    await expect.poll(() => connection.getAttribute("data-state"), WAIT).toBe("connected");
    expect(await connection.isVisible()).toBe(true);
    await expect.poll(() => page.getByRole("alert").filter({ hasText: "can't be reached" }).count(), WAIT).toBe(0);
    expect(await page.locator("#composer-error").textContent()).toBe("");
    // The kept text goes through now.
    await box.press("Enter");
    await page.getByRole("log", { name: "Conversation" }).getByRole("button", { name: "Short summary" }).waitFor();
    expect(problems).toEqual([]);
  }, 60_000);

  it("B: a message over the limit is refused in a person's words, stays in the box, and leaves no session in the list", async () => {
    const jwt = await userToken("gus");
    const { page, problems } = await openPage(DESKTOP);
    await signIn(page, jwt);
    const box = page.getByRole("textbox", { name: "Message" });
    await type(page, "x".repeat(20_000));
    await expect.poll(() => page.locator("#composer-error").textContent(), WAIT).toBe("That message is too long: 20,000 characters; the most is 10,000. Shorten it or send it in parts.");
    expect((await box.inputValue()).length).toBe(20_000);
    // The session the page opened to send it in is closed again, and never listed.
    await expect.poll(async () => (await w.call("GET", "/api/v1/sessions", { token: jwt })).body.items.length, WAIT).toBe(0);
    expect(await page.locator("#session-list li").count()).toBe(0);
    expect(await page.locator("#chat-title").textContent()).toBe("No session selected");

    // Known now, the limit is checked on the page: no second session, even a closed one.
    await type(page, "y".repeat(15_000));
    await expect.poll(() => page.locator("#composer-error").textContent(), WAIT).toBe("That message is too long: 15,000 characters; the most is 10,000. Shorten it or send it in parts.");
    expect((await box.inputValue()).length).toBe(15_000);
    expect((await w.call("GET", "/api/v1/sessions?state=closed", { token: jwt })).body.items.length).toBeLessThanOrEqual(1);

    // Shortened, it is sent; then the session appears.
    await type(page, "moths");
    await page.getByRole("log", { name: "Conversation" }).locator("article.user", { hasText: "moths" }).waitFor();
    await expect.poll(() => page.locator("#session-list li").count(), WAIT).toBe(1);
    expect(await page.locator("#composer-error").textContent()).toBe("");
    expect(problems).toEqual([]);
  }, 60_000);

  it("C: a text that is none of the waiting question's choices is not sent as its answer: the page asks, then sends it as a new request", async () => {
    const jwt = await userToken("hal");
    const { page, problems } = await openPage(PHONE);
    await signIn(page, jwt);
    await newSession(page);
    const log = page.getByRole("log", { name: "Conversation" });
    const box = page.getByRole("textbox", { name: "Message" });
    await type(page, "owls");
    await log.getByRole("button", { name: "Short summary" }).waitFor();
    const first = (await page.locator('#session-list [aria-current="true"]').getAttribute("data-id"))!;

    await type(page, "tell me about moths");
    const offer = page.getByRole("group", { name: /Send it as a new request/ });
    await offer.waitFor();
    expect(await offer.innerText()).toContain("(Short summary, Detailed report)");
    await page.screenshot({ path: `${RESULTS}web-page-which-meant-phone.png` });
    // Nothing went: the text is in the box, the question still waits.
    expect(await box.inputValue()).toBe("tell me about moths");
    expect(await log.locator("article.user").count()).toBe(1);

    // In a new session it starts a task of its own; the first question still waits.
    await offer.getByRole("button", { name: "Send in a new session" }).click();
    await expect.poll(() => page.locator("#session-list li").count(), WAIT).toBe(2);
    await log.locator("article.user", { hasText: "tell me about moths" }).waitFor();
    await log.getByRole("button", { name: "Short summary" }).waitFor();
    expect(await offer.isVisible()).toBe(false);
    expect(await box.inputValue()).toBe("");
    const waiting = await w.call("GET", `/api/v1/tasks?session=${first}`, { token: jwt });
    expect(waiting.body.items.map((t: { status: string }) => t.status)).toEqual(["waiting"]);

    // Back in the first session: cancel its task, then send.
    await openSession(page, first);
    await log.getByRole("button", { name: "Short summary" }).waitFor();
    await type(page, "tell me about bats");
    await offer.getByRole("button", { name: "Cancel the task, then send" }).click();
    await log.getByText("Not answered: the task was cancelled.").waitFor();
    await log.locator("article.user", { hasText: "tell me about bats" }).waitFor();
    await expect.poll(() => log.locator("article.question").count(), WAIT).toBe(2);

    // A choice typed (its number) is the answer, as in any chat.
    await type(page, "2");
    await log.getByText("Answered: Detailed report").waitFor();
    expect(await offer.isVisible()).toBe(false);
    const tasks = await w.call("GET", `/api/v1/tasks?session=${first}`, { token: jwt });
    const statuses = tasks.body.items.map((t: { status: string }) => t.status);
    expect(statuses).toHaveLength(2);
    expect(statuses).toContain("cancelled");
    expect(problems).toEqual([]);
  }, 60_000);

  it("D: the task line shows the step, never the workflow's internal name", async () => {
    const { page, problems } = await openPage(DESKTOP);
    await signIn(page, await userToken("ida"));
    await type(page, "owls");
    const log = page.getByRole("log", { name: "Conversation" });
    await log.getByRole("button", { name: "Short summary" }).waitFor();
    await expect.poll(() => page.locator("#task-label").textContent(), WAIT).toBe("Understanding the request");
    const labels = new Set<string>();
    await log.getByRole("button", { name: "Short summary" }).click();
    await expect
      .poll(async () => {
        labels.add((await page.locator("#task-label").textContent()) ?? "");
        return log.getByRole("button", { name: "Approve", exact: true }).isVisible();
      }, WAIT)
      .toBe(true);
    await log.getByRole("button", { name: "Approve", exact: true }).click();
    await expect.poll(() => page.locator("#task-state").textContent(), WAIT).toContain("Completed");
    labels.add((await page.locator("#task-label").textContent()) ?? "");
    expect([...labels].filter((label) => /demo/i.test(label)), [...labels].join(" | ")).toEqual([]);
    expect(await page.locator("#task").innerText()).not.toMatch(/demo/i);
    expect(problems).toEqual([]);
  }, 60_000);

  it("E: once approved, the draft folds to one line, and its text shows once, in the result", async () => {
    const { page, problems } = await openPage(PHONE);
    await signIn(page, await userToken("jo"));
    await type(page, "a short summary of moths");
    const log = page.getByRole("log", { name: "Conversation" });
    const review = log.locator("article.review");
    await log.getByRole("button", { name: "Approve", exact: true }).click();
    await log.locator("article.result").waitFor();
    await expect.poll(() => review.locator("details.draft").getAttribute("open"), WAIT).toBeNull();
    expect(await review.locator("pre").isVisible()).toBe(false);
    expect(await review.locator("summary").innerText()).toBe("Approved draft: the result below");
    expect(await review.getByText("Approved", { exact: true }).isVisible()).toBe(true);
    expect(await log.locator("article.result .msg-text").innerText()).toContain("a short summary of moths: the essentials in three points.");
    // On a phone the review and the result fit together now: the review is short.
    const height = await review.evaluate((node) => node.getBoundingClientRect().height);
    expect(height).toBeLessThan(PHONE.height / 3);
    await page.screenshot({ path: `${RESULTS}web-page-approved-phone.png` });
    // The draft can still be opened.
    await review.locator("summary").click();
    expect(await review.locator("pre").isVisible()).toBe(true);
    expect(problems).toEqual([]);
  }, 60_000);

  for (const scheme of ["light", "dark"] as const) {
    it(`F (${scheme}): the focus ring is the accent blue, not an error red, and stands out from the page`, async () => {
      const { page, problems } = await openPage(DESKTOP, w.url, scheme);
      await signIn(page, await userToken(`kim-${scheme}`));
      const box = page.getByRole("textbox", { name: "Message" });
      await box.focus();
      const ring = await box.evaluate((node) => getComputedStyle(node).outlineColor);
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      const [r, , b] = (ring.match(/[\d.]+/g) ?? []).map(Number);
      expect(b!, `ring ${ring}`).toBeGreaterThan(r! + 60);
      expect(contrast(ring, background), `ring ${ring} on ${background}`).toBeGreaterThanOrEqual(3);
      // A button reached with Tab shows the same ring.
      await page.keyboard.press("Tab");
      const button = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineColor);
      expect(button).toBe(ring);
      expect(problems).toEqual([]);
    }, 30_000);
  }

  it("skips sign-in when the server needs no token (loopback, none configured)", async () => {
    const open = await startWebBot({ tokens: false, config: { workflows: { demo: { stepDelayMs: 20 } } } });
    cleanups.push(() => open.stop());
    const { page, problems } = await openPage(DESKTOP, open.url);
    await page.getByRole("textbox", { name: "Message" }).waitFor();
    expect(await page.getByLabel("API token").isVisible()).toBe(false);
    expect(await page.getByRole("button", { name: "Sign out" }).isVisible()).toBe(false);
    await page.getByRole("textbox", { name: "Message" }).fill("a short summary of bats");
    await page.keyboard.press("Enter");
    const log = page.getByRole("log", { name: "Conversation" });
    await log.getByRole("button", { name: "Approve", exact: true }).click();
    await log.locator("article.result").waitFor();
    expect(await log.locator("article.result .msg-text").textContent()).toContain("a short summary of bats: the essentials");
    expect(problems).toEqual([]);
  }, 60_000);
});
