import { afterEach, describe, expect, it } from "vitest";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fromConfig } from "../../adapters/slack/index.ts";
import { markdownToMrkdwn } from "../../adapters/slack/mrkdwn.ts";
import { renderMessage } from "../../adapters/slack/render.ts";
import { AuthenticationError, ConfigError, NetworkError, NotFoundError, PermissionError } from "../../src/errors.ts";
import { silentLogger } from "../../src/logger.ts";
import type { InboundEvent } from "../../src/model.ts";
import { startFakeSlack, type FakeSlack } from "../fakes/slack/server.ts";
import { ALICE, ALICE_DM, CHANNEL, shown, slackAdapterFor, startSlackBot } from "./slack-setup.ts";
import { cleanupList } from "./telegram-setup.ts";

const cleanup = cleanupList();
afterEach(() => cleanup.run());
const logger = silentLogger();
const dm = { platform: "slack", channel: ALICE_DM, user: ALICE, direct: true };

async function fakeSlack(): Promise<FakeSlack> {
  const fake = await startFakeSlack();
  cleanup.add(async () => {
    await fake.close();
    expect(fake.violations).toEqual([]);
  });
  return fake;
}

async function started(fake: FakeSlack, options: Parameters<typeof slackAdapterFor>[1] = {}) {
  const events: InboundEvent[] = [];
  const adapter = slackAdapterFor(fake, options);
  await adapter.start(async (event) => void events.push(event));
  cleanup.add(() => adapter.stop());
  return { adapter, events };
}

describe("slack adapter: configuration and start", () => {
  it("missing tokens name the variable; a malformed one is not echoed; secrets in the file are refused", () => {
    const error = (run: () => unknown) => {
      try {
        run();
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error("expected a ConfigError");
    };
    expect(error(() => fromConfig({ enabled: true }, {}, { logger }))).toMatch(/^SLACK_BOT_TOKEN is not set/);
    expect(error(() => fromConfig({ enabled: true }, { SLACK_BOT_TOKEN: "xoxb-1-a" }, { logger }))).toMatch(/^SLACK_APP_TOKEN is not set/);
    expect(error(() => fromConfig({ mode: "http" }, { SLACK_BOT_TOKEN: "xoxb-1-a" }, { logger }))).toMatch(/^SLACK_SIGNING_SECRET is not set/);
    const malformed = error(() => fromConfig({}, { SLACK_BOT_TOKEN: "oops-secret-value", SLACK_APP_TOKEN: "xapp-1" }, { logger }));
    expect(malformed).toContain("SLACK_BOT_TOKEN");
    expect(malformed).not.toContain("oops-secret-value");
    expect(error(() => fromConfig({ botToken: "xoxb-1-a" }, {}, { logger }))).toMatch(/adapters\.slack\.botToken: secrets never go in the configuration file.*SLACK_BOT_TOKEN/);
    expect(error(() => fromConfig({ mode: "push", command: "chatflow" }, { SLACK_BOT_TOKEN: "xoxb-1-a", SLACK_APP_TOKEN: "xapp-1-b" }, { logger }))).toMatch(/adapters\.slack\.mode[\s\S]*adapters\.slack\.command/);
  });

  it("a token Slack rejects fails start() with AuthenticationError naming SLACK_BOT_TOKEN, without the token", async () => {
    const fake = await fakeSlack();
    const adapter = slackAdapterFor(fake, { botToken: "xoxb-999-wrong-token" });
    const failure = await adapter.start(async () => undefined).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AuthenticationError);
    expect((failure as Error).message).toContain("SLACK_BOT_TOKEN");
    expect((failure as Error).message).not.toContain("xoxb-999-wrong-token");
  });

  it("an app-level token Slack rejects fails start() naming SLACK_APP_TOKEN, without the token", async () => {
    const fake = await fakeSlack();
    const adapter = slackAdapterFor(fake, { appToken: "xapp-1-A0WRONG-wrong-app-token" });
    const failure = await adapter.start(async () => undefined).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AuthenticationError);
    expect((failure as Error).message).toContain("SLACK_APP_TOKEN");
    expect((failure as Error).message).not.toContain("xapp-1-A0WRONG-wrong-app-token");
  });

  it("an unreachable API fails start() with NetworkError naming SLACK_API_URL", async () => {
    const adapter = slackAdapterFor({ botToken: "xoxb-1-a", appToken: "xapp-1-b", apiUrl: "http://127.0.0.1:9/api/" } as unknown as FakeSlack, { retries: 0, requestTimeoutSeconds: 2 });
    const failure = await adapter.start(async () => undefined).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(NetworkError);
    expect((failure as Error).message).toMatch(/127\.0\.0\.1:9 \(from SLACK_API_URL\)/);
  });

  it("a Slack API that accepts connections and never answers fails start() at the start deadline (not after the sending client's 10 patient retries), naming SLACK_API_URL", async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const adapter = slackAdapterFor({ botToken: "xoxb-1-a", appToken: "xapp-1-b", apiUrl: `http://127.0.0.1:${port}/api/` } as unknown as FakeSlack, { requestTimeoutSeconds: 3 });
      const failure = await adapter.start(async () => undefined).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(NetworkError);
      expect((failure as Error).message).toContain(`127.0.0.1:${port} (from SLACK_API_URL)`);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  }, 20_000);
});

describe("slack adapter: outbound", () => {
  it("escapes what a person typed: <!channel>, <@U…> and & never become mentions or entities", async () => {
    const fake = await fakeSlack();
    const { adapter } = await started(fake);
    await adapter.send(dm, { kind: "result", text: "Report: <!channel> & <@U0BOB> **done**" });
    const posted = fake.botMessages(ALICE_DM).at(-1)!;
    expect(shown(posted)).toBe("Report: &lt;!channel&gt; &amp; &lt;@U0BOB&gt; *done*");
    expect(posted.text).not.toMatch(/<!channel>|<@U0BOB>/);
    expect(markdownToMrkdwn("`a **b**` **c**")).toBe("`a **b**` *c*");
  });

  it("splits long text into 3,000-character sections and 50-block messages, buttons on the last; nothing is cut", () => {
    const text = Array.from({ length: 60 }, (_, i) => `${String(i).padStart(2, "0")} ${"x".repeat(2990)}`).join("\n");
    const parts = renderMessage({ kind: "question", text, actions: [{ id: "cf:t:k:0", label: "Yes", role: "choice" }] }, (id) => id);
    expect(parts).toHaveLength(2);
    expect(parts[0]!.blocks).toHaveLength(50);
    expect(parts.flatMap((p) => p.blocks).filter((b) => b.type === "section").every((b) => ((b.text as { text: string }).text.length <= 3000))).toBe(true);
    expect(parts[1]!.blocks.at(-1)).toMatchObject({ type: "actions" });
    const seen = parts.flatMap((p) => p.blocks).filter((b) => b.type === "section").map((b) => (b.text as { text: string }).text).join("\n");
    expect(seen.match(/^\d\d /gm)).toHaveLength(60);
  });

  it("maps not_in_channel and account_inactive to PermissionError, channel_not_found to NotFoundError; recall finds a post by its key", async () => {
    const fake = await fakeSlack();
    const { adapter } = await started(fake);
    fake.notInChannel.add("C0PRIVATE");
    fake.missing.add("C0GONE");
    const refused = await adapter.send({ platform: "slack", channel: "C0PRIVATE", user: "scheduler" }, { kind: "notice", text: "hi" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PermissionError);
    // Slack's own answer stays reachable as the cause, with no token in it.
    expect((refused as PermissionError).cause).toMatchObject({ code: "slack_webapi_platform_error", data: { ok: false, error: "not_in_channel" } });
    expect(JSON.stringify((refused as PermissionError).cause)).not.toContain("xoxb-");
    await expect(adapter.send({ platform: "slack", channel: "C0GONE", user: "scheduler" }, { kind: "notice", text: "hi" })).rejects.toBeInstanceOf(NotFoundError);
    const where = { platform: "slack", channel: CHANNEL, user: "scheduler" };
    const sent = await adapter.send(where, { kind: "notice", text: "Stand-up in 10 minutes", key: "sched:standup:1" });
    expect(await adapter.recall!(where, "sched:standup:1")).toEqual({ id: sent.id });
    expect(await adapter.recall!(where, "sched:standup:2")).toBeUndefined();
    // A deactivated bot: schedules to it pause like any target that is gone.
    fake.revoke();
    await expect(adapter.send(where, { kind: "notice", text: "hi" })).rejects.toBeInstanceOf(PermissionError);
  });

  it("a 429 storm with Retry-After and a 5xx: every message still arrives, once and in order", async () => {
    const fake = await fakeSlack();
    const { adapter } = await started(fake);
    fake.fail({ method: "chat.postMessage", kind: "ratelimited", retryAfter: 1, times: 1 });
    fake.fail({ method: "chat.postMessage", kind: "server_error", status: 503, times: 1 });
    for (const n of [1, 2, 3]) await adapter.send(dm, { kind: "notice", text: `message ${n}` });
    expect(fake.botMessages(ALICE_DM).map((m) => shown(m))).toEqual(["message 1", "message 2", "message 3"]);
    expect(fake.callsOf("chat.postMessage", { all: true }).length).toBe(5);
  }, 30_000);

  it("paces chat.update across the workspace: a storm of edits on many messages draws no 429 and ends on each latest state", async () => {
    const fake = await fakeSlack();
    fake.rateLimit("chat.update", { perSecond: 10 });
    const { adapter } = await started(fake, { pacing: { updatesPerMinute: 540, postIntervalMs: 0 } });
    const posted = await Promise.all([0, 1, 2, 3, 4].map((i) => adapter.send({ platform: "slack", channel: `C0CHAN${i}`, user: "u" }, { kind: "status", text: `task ${i}: 0%` })));
    const edits: Promise<unknown>[] = [];
    for (let step = 1; step <= 20; step++) {
      posted.forEach((sent, i) => edits.push(adapter.edit!({ platform: "slack", channel: `C0CHAN${i}`, user: "u" }, sent.id, { kind: "status", text: `task ${i}: ${step * 5}%` })));
    }
    await Promise.all(edits);
    expect(fake.rateLimitedCalls).toEqual([]);
    posted.forEach((sent, i) => expect(shown(fake.message(`C0CHAN${i}`, sent.id))).toBe(`*task ${i}: 100%*`));
    // Coalesced: far fewer updates than edits asked for.
    expect(fake.callsOf("chat.update").length).toBeLessThan(100);
  }, 30_000);
});

describe("slack adapter: inbound", () => {
  it("ignores the bot's own messages, other bots, edits, deletions, joins and malformed envelopes, and goes on", async () => {
    const fake = await fakeSlack();
    const { events } = await started(fake);
    await fake.waitForConnection();
    fake.botMessage({ channel: ALICE_DM, text: "from me", own: true });
    fake.botMessage({ channel: CHANNEL, text: "another app" });
    const { ts } = fake.userMessage({ channel: ALICE_DM, user: ALICE, text: "first" });
    fake.editMessage({ channel: ALICE_DM, ts, text: "edited" });
    fake.deleteMessage({ channel: ALICE_DM, ts });
    fake.channelJoin({ channel: CHANNEL, user: ALICE });
    fake.sendRaw("{not json");
    fake.sendEnvelope("events_api", { type: "event_callback", event: { type: "message", text: 42 } });
    fake.sendEnvelope("interactive", { type: "block_actions", actions: "nope" });
    fake.userMessage({ channel: ALICE_DM, user: ALICE, text: "still alive" });
    await fake.waitUntil(() => events.some((e) => e.kind === "message" && e.text === "still alive"), 5000, "the last message");
    expect(events.map((e) => (e.kind === "message" ? e.text : e.kind))).toEqual(["first", "still alive"]);
  });

  it("a mention (sent twice by Slack) is handed over once; a channel message without one, outside chatflow's threads, not at all", async () => {
    const fake = await fakeSlack();
    const { events } = await started(fake);
    await fake.waitForConnection();
    fake.userMessage({ channel: CHANNEL, user: ALICE, text: "chatter" });
    const { ts } = fake.userMessage({ channel: CHANNEL, user: ALICE, text: "a thread of people" });
    fake.userMessage({ channel: CHANNEL, user: ALICE, text: "a reply among people", threadTs: ts });
    fake.mention({ channel: CHANNEL, user: ALICE, text: `<@${fake.bot.userId}> now for the bot` });
    await fake.waitUntil(() => events.length > 0, 5000, "the mention");
    expect(events.map((e) => e.kind === "message" && e.text)).toEqual(["now for the bot"]);
  });
});

describe("slack adapter: connection", () => {
  it("a dropped socket reconnects, and nothing sent after it is lost", async () => {
    const h = await startSlackBot();
    cleanup.add(() => h.stop());
    const { fake } = h;
    expect(fake.dropSockets()).toBe(1);
    await fake.waitForConnection({ count: 2, timeoutMs: 20_000 });
    fake.userMessage({ channel: ALICE_DM, user: ALICE, text: "/status" });
    await h.botMessage((text) => text.startsWith("No task is running"), { channel: ALICE_DM });
  }, 30_000);

  it("HTTP mode: a signed request is taken, a forged or stale one gets 401 and nothing happens", async () => {
    const fake = await fakeSlack();
    const events: InboundEvent[] = [];
    const adapter = slackAdapterFor(fake, { mode: "http", appToken: undefined, signingSecret: fake.signingSecret, http: { host: "127.0.0.1", port: 0, path: "/slack/events" } });
    await adapter.start(async (event) => void events.push(event));
    cleanup.add(() => adapter.stop());
    const url = `http://127.0.0.1:${adapter.httpPort}/slack/events`;
    const body = (text: string, id: string) => ({
      type: "event_callback",
      team_id: fake.team.id,
      api_app_id: fake.bot.appId,
      event_id: id,
      event_time: 1,
      event: { type: "message", channel: ALICE_DM, channel_type: "im", user: ALICE, text, ts: `${id.length}.000${id.length}`, event_ts: "1.1" },
    });
    expect((await fake.postEvent(url, body("forged", "Ev1"), { signature: "forged" })).status).toBe(401);
    expect((await fake.postEvent(url, body("stale", "Ev22"), { signature: "stale" })).status).toBe(401);
    expect((await fake.postEvent(url, body("signed", "Ev333"), { signature: "good" })).status).toBe(200);
    await fake.waitUntil(() => events.length > 0, 5000, "the signed event");
    expect(events.map((e) => e.kind === "message" && e.text)).toEqual(["signed"]);
  });
});
