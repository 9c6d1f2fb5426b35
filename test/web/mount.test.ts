import { serve, type ServerType } from "@hono/node-server";
import { Hono } from "hono";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createWebAdapter } from "../../adapters/web/index.ts";
import { createBot, type Bot } from "../../src/index.ts";
import { silentLogger } from "../../src/logger.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import { eventually } from "../helpers.ts";
import { TOKENS } from "./web-setup.ts";

/**
 * The web channel as a library user mounts it: `createWebAdapter({ listen: false })` binds no
 * port; once the bot started, its `app` goes into the user's own Hono app beside their routes.
 */
let bot: Bot | undefined;
let server: ServerType | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await bot?.stop();
  server = bot = undefined;
});

describe("the web channel in your own server", () => {
  it("serves the page and the whole API under your prefix, with your tokens, beside your own routes; a whole task runs", async () => {
    const web = createWebAdapter({ listen: false, config: { basePath: "/chat" }, env: { CHATFLOW_API_TOKENS: `alice:${TOKENS.alice}` } });
    bot = await createBot({ store: createMemoryStore(), adapters: [web], logger: silentLogger(), config: { workflows: { demo: { stepDelayMs: 1 } } }, env: {} });
    await bot.start();
    expect(web.url).toBeUndefined();

    const app = new Hono();
    app.get("/", (c) => c.text("my own home page"));
    app.route("/", web.app!);
    server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 });
    await new Promise((resolve) => server!.once("listening", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const call = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { ...init, headers: { Authorization: `Bearer ${TOKENS.alice}`, "Content-Type": "application/json", ...init.headers } });
    const task = async (id: string) => (await (await call(`/chat/api/v1/tasks/${id}`)).json()) as { status: string; result: { text: string } | null };

    expect(await (await fetch(`${base}/`)).text()).toBe("my own home page");
    expect(await (await fetch(`${base}/chat/index.html`)).text()).toContain('src="app.js"');
    expect((await fetch(`${base}/chat/api/v1/me`)).status).toBe(401);
    expect(await (await call("/chat/api/v1/me")).json()).toEqual({ id: "alice", reviewer: false });
    const started = await call("/chat/api/v1/tasks", { method: "POST", body: JSON.stringify({ workflow: "demo", input: { text: "a short summary of owls" } }) });
    expect(started.status).toBe(202);
    const { taskId } = (await started.json()) as { taskId: string };
    await eventually(async () => (await task(taskId)).status === "waiting", 5000, "the task waiting for its review");
    expect((await call(`/chat/api/v1/tasks/${taskId}/review`, { method: "POST", body: JSON.stringify({ approved: true }) })).status).toBe(200);
    await eventually(async () => (await task(taskId)).status === "completed", 5000, "the task completed");
    expect((await task(taskId)).result?.text).toMatch(/owls/);
    expect((await fetch(`${base}/chat/healthz`)).status).toBe(200);
  });
});
