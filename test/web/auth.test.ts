import { sign } from "hono/jwt";
import { afterEach, describe, expect, it } from "vitest";
import { createWebAdapter } from "../../adapters/web/index.ts";
import { ConfigError } from "../../src/errors.ts";
import { eventually } from "../helpers.ts";
import { JWT_SECRET, TOKENS, useWebBots } from "./web-setup.ts";

/** Who may call the API: tokens, JWTs, the local user on loopback; per-user rate limits. */
const start = useWebBots(afterEach);

const now = () => Math.floor(Date.now() / 1000);

describe("authentication", () => {
  it("refuses a request without a token, or with a wrong one, with 401 and a sentence; never echoes the token", async () => {
    const w = await start();
    const none = await w.call("GET", "/api/v1/sessions", { as: null });
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: "unauthorized", message: "An API token or a JWT is required: send Authorization: Bearer <token>." });
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="chatflow"');
    const wrong = await w.call("GET", "/api/v1/sessions", { token: "not-a-real-token-at-all" });
    expect(wrong.status).toBe(401);
    expect(wrong.body.message).toBe("The token is not valid.");
    expect(JSON.stringify(wrong.body)).not.toContain("not-a-real-token");
    expect((await w.call("GET", "/api/v1/sessions", { as: "bob" })).status).toBe(200);
    expect((await w.call("GET", "/api/v1/me", { as: "bob" })).body).toEqual({ id: "bob", reviewer: false });
    expect((await w.call("GET", "/api/v1/me", { as: "rev" })).body).toEqual({ id: "rev", reviewer: true });
  });

  it("takes HS256 JWTs: sub is the user, exp is required and honoured, another secret is refused", async () => {
    const w = await start();
    const carol = await sign({ sub: "carol", exp: now() + 60 }, JWT_SECRET, "HS256");
    const created = await w.call("POST", "/api/v1/sessions", { token: carol, body: {} });
    expect(created.status).toBe(201);
    expect(created.body.owner).toBe("carol");
    expect((await w.call("GET", "/api/v1/me", { token: carol })).body).toEqual({ id: "carol", reviewer: false });
    const expired = await sign({ sub: "carol", exp: now() - 10 }, JWT_SECRET, "HS256");
    expect((await w.call("GET", "/api/v1/sessions", { token: expired })).body).toEqual({ error: "unauthorized", message: "The JWT has expired." });
    const forged = await sign({ sub: "carol", exp: now() + 60 }, "another-secret-0123456789abcdef0123456789", "HS256");
    expect((await w.call("GET", "/api/v1/sessions", { token: forged })).status).toBe(401);
    // Without exp a JWT would be good forever.
    const noExp = await sign({ sub: "carol", iat: now() }, JWT_SECRET, "HS256");
    expect((await w.call("GET", "/api/v1/sessions", { token: noExp })).body).toEqual({ error: "unauthorized", message: "The JWT has no exp: an expiry time is required." });
    const noSub = await sign({ exp: now() + 60 }, JWT_SECRET, "HS256");
    expect((await w.call("GET", "/api/v1/sessions", { token: noSub })).body.message).toBe("The JWT has no usable sub (the user id).");
  });

  it("serves one local user without tokens on loopback; refuses any other bind without credentials, naming what to set", async () => {
    const w = await start({ tokens: false });
    const created = await w.call("POST", "/api/v1/sessions", { as: null, body: {} });
    expect(created.status).toBe(201);
    expect(created.body.owner).toBe("local");
    expect(() => createWebAdapter({ config: { host: "0.0.0.0", port: 0 }, env: {} })).toThrow(ConfigError);
    expect(() => createWebAdapter({ config: { host: "0.0.0.0", port: 0 }, env: {} })).toThrow(/CHATFLOW_API_TOKENS.*CHATFLOW_JWT_SECRET/);
    expect(() => createWebAdapter({ config: { host: "0.0.0.0", port: 0 }, env: { CHATFLOW_API_TOKENS: `alice:${TOKENS.alice}` } })).not.toThrow();
  });

  it("refuses malformed credentials in the environment, naming the variable and never showing a token", () => {
    const attempt = (env: NodeJS.ProcessEnv) => {
      try {
        createWebAdapter({ config: { port: 0 }, env });
        return "";
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(attempt({ CHATFLOW_API_TOKENS: "justatokenwithoutuser1234" })).toMatch(/^CHATFLOW_API_TOKENS: entry 1 is not "user:token"/);
    const short = attempt({ CHATFLOW_API_TOKENS: "alice:short-secret" });
    expect(short).toMatch(/^CHATFLOW_API_TOKENS: the token of alice is shorter than 16 characters/);
    expect(short).not.toContain("short-secret");
    expect(attempt({ CHATFLOW_JWT_SECRET: "tooshort" })).toMatch(/^CHATFLOW_JWT_SECRET is shorter than 32 characters/);
  });
});

describe("browsers on other origins", () => {
  it("answers CORS preflights for the configured origins only", async () => {
    const w = await start({ web: { corsOrigins: ["https://app.example.com"] } });
    const preflight = (origin: string) =>
      fetch(`${w.url}/api/v1/tasks`, { method: "OPTIONS", headers: { Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type" } });
    const allowed = await preflight("https://app.example.com");
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(allowed.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    const other = await preflight("https://evil.example.net");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("behind a proxy", () => {
  it("serves the page, the API and health under basePath", async () => {
    const w = await start({ web: { basePath: "/chat" } });
    expect(w.url).toMatch(/\/chat$/);
    expect((await w.call("GET", "/api/v1/me")).body).toEqual({ id: "alice", reviewer: false });
    expect((await w.call("GET", "/healthz", { as: null })).status).toBe(200);
    const root = await fetch(`${w.url}/`, { redirect: "manual" });
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/chat/index.html");
    const page = await fetch(`${w.url}/index.html`);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await page.text()).toContain('src="app.js"');
    expect((await fetch(`${w.url.replace(/\/chat$/, "")}/api/v1/me`)).status).toBe(404);
  });
});

describe("rate limits", () => {
  it("answers 429 with Retry-After over the requests per minute, per user", async () => {
    const w = await start({ web: { rateLimit: { requestsPerMinute: 5, tasksPerMinute: 100 } } });
    for (let i = 0; i < 5; i++) expect((await w.call("GET", "/api/v1/sessions")).status).toBe(200);
    const limited = await w.call("GET", "/api/v1/sessions");
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: "rate_limited", message: expect.stringMatching(/^Too many requests per minute \(the limit is 5\)\. Try again in \d+ s\.$/) });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await w.call("GET", "/api/v1/sessions", { as: "bob" })).status).toBe(200);
  });

  it("answers 429 over the tasks started per minute, and starts nothing", async () => {
    const w = await start({ web: { rateLimit: { requestsPerMinute: 100, tasksPerMinute: 2 } } });
    for (let i = 0; i < 2; i++) expect((await w.call("POST", "/api/v1/tasks", { body: { workflow: "demo", input: { text: `short ${i}` } } })).status).toBe(202);
    const limited = await w.call("POST", "/api/v1/tasks", { body: { workflow: "demo", input: { text: "short 3" } } });
    expect(limited.status).toBe(429);
    expect(limited.body.message).toMatch(/^Too many tasks started: the limit is 2 a minute per person \(adapters\.web\.rateLimit\.tasksPerMinute\)\. Try again in \d+ s\.$/);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await w.call("GET", "/api/v1/tasks")).body.items).toHaveLength(2);
  });

  it("counts tasks however they start: a command or a message in a fresh session, /api/qa, a schedule; bob is not held by alice's limit", async () => {
    const w = await start({ web: { rateLimit: { requestsPerMinute: 1000, tasksPerMinute: 2 } }, config: { scheduler: { minWorkIntervalSeconds: 0 } } });
    const fresh = async (as: "alice" | "bob" = "alice") => (await w.call("POST", "/api/v1/sessions", { as, body: {} })).body.id as string;
    expect((await w.call("POST", `/api/v1/sessions/${await fresh()}/messages`, { body: { text: "/demo owls" } })).status).toBe(202);
    expect((await w.call("POST", `/api/v1/sessions/${await fresh()}/messages`, { body: { text: "cats" } })).status).toBe(202);
    // Limited now, on every path: nothing more starts.
    for (const text of ["/demo bats", "moles"]) {
      const refused = await w.call("POST", `/api/v1/sessions/${await fresh()}/messages`, { body: { text } });
      expect(refused.status).toBe(429);
      expect(refused.body.message).toMatch(/^Too many tasks started: the limit is 2 a minute/);
    }
    expect((await w.call("POST", "/api/qa", { body: { question: "owls?" } })).status).toBe(429);
    const session = await fresh();
    expect((await w.call("POST", "/api/v1/schedules", { body: { sessionId: session, cron: "* * * * * *", workflow: "demo", input: { text: "a short summary" } } })).status).toBe(201);
    const [schedule] = (await w.call("GET", "/api/v1/schedules")).body.items;
    await eventually(async () => (await w.call("GET", "/api/v1/schedules")).body.items[0].lastError !== null, 10_000, "a scheduled slot refused for the limit");
    expect((await w.call("GET", "/api/v1/schedules")).body.items[0].lastError).toMatch(/^a slot was skipped: Too many tasks started/);
    await w.call("DELETE", `/api/v1/schedules/${schedule.id}`);
    expect((await w.call("GET", "/api/v1/tasks")).body.items).toHaveLength(2);
    expect((await w.call("POST", `/api/v1/sessions/${await fresh("bob")}/messages`, { as: "bob", body: { text: "/demo owls" } })).status).toBe(202);
  });

  it("refuses a schedule that would start a workflow every second (scheduler.minWorkIntervalSeconds)", async () => {
    const w = await start();
    const session = (await w.call("POST", "/api/v1/sessions", { body: {} })).body.id;
    const refused = await w.call("POST", "/api/v1/schedules", { body: { sessionId: session, cron: "* * * * * *", workflow: "demo", input: { text: "owls" } } });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/fires as often as every 1 s; a schedule that runs a workflow may fire at most once every 60 s \(scheduler\.minWorkIntervalSeconds\)/);
    expect((await w.call("GET", "/api/v1/schedules")).body.items).toHaveLength(0);
  });
});
