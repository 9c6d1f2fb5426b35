/**
 * What only the PostgreSQL store does: connecting (and the sentences when it can't), schema
 * migrations, health, the feed watch's own connection, and what close() ends. The Store
 * contract runs in postgres.test.ts, the races between two stores in postgres-race.test.ts.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { ChatflowError, ConfigError } from "../../src/errors.ts";
import { hasTaskClaims } from "../../src/store/coordination.ts";
import { hasSignals } from "../../src/store/signals.ts";
import { sessionLockClass } from "../../src/store/postgres/claims.ts";
import { createPostgresStore, DATABASE_URL_ENV, databaseUrlFromEnv, SCHEMA_VERSION } from "../../src/store/postgres/index.ts";
import { createPool, IDLE_IN_TRANSACTION_MS, targetOf } from "../../src/store/postgres/connect.ts";
import { createMemoryStore } from "../../src/store/memory.ts";
import { message, session, task } from "./contract.ts";
import { dropDatabase, freshSchema, openPostgres, quietLogger, testDatabase, type PostgresStore } from "./postgres-harness.ts";

afterAll(() => dropDatabase());

const stores: PostgresStore[] = [];
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const c of cleanups.splice(0)) await c();
});

async function open(schema: string, options: Parameters<typeof openPostgres>[1] = {}): Promise<PostgresStore> {
  const store = await openPostgres(schema, options);
  stores.push(store);
  return store;
}

/** A logger that keeps every line, to check that no secret reaches the log. */
function recordingLogger() {
  const lines: string[] = [];
  const keep = (obj: object, msg: string) => void lines.push(`${msg} ${JSON.stringify(obj)}`);
  return { lines, warn: keep, info: keep };
}

/** What open() rejects with. */
async function openError(options: Parameters<typeof createPostgresStore>[0]): Promise<ChatflowError> {
  const store = createPostgresStore({ logger: quietLogger, ...options });
  const error = await store.open().then(
    () => store.close(),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChatflowError);
  return error as ChatflowError;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** The admin URL with another user, password or database. */
async function urlWith(change: { user?: string; password?: string; database?: string; port?: number }): Promise<string> {
  const url = new URL((await testDatabase()).url);
  if (change.user !== undefined) url.username = change.user;
  if (change.password !== undefined) url.password = change.password;
  if (change.database !== undefined) url.pathname = `/${change.database}`;
  if (change.port !== undefined) url.port = String(change.port);
  return url.toString();
}

describe("connecting", () => {
  it("databaseUrlFromEnv reads CHATFLOW_DATABASE_URL, then DATABASE_URL, else names both", () => {
    expect(DATABASE_URL_ENV).toBe("CHATFLOW_DATABASE_URL");
    expect(databaseUrlFromEnv({ CHATFLOW_DATABASE_URL: "postgres://a/b", DATABASE_URL: "postgres://c/d" })).toBe("postgres://a/b");
    expect(databaseUrlFromEnv({ CHATFLOW_DATABASE_URL: " ", DATABASE_URL: "postgres://c/d" })).toBe("postgres://c/d");
    expect(() => databaseUrlFromEnv({})).toThrow(ConfigError);
    expect(() => databaseUrlFromEnv({})).toThrow(/CHATFLOW_DATABASE_URL \(or DATABASE_URL\)/);
  });

  it("a server that is not there: a sentence with host:port and what to do, in bounded time, without the password", async () => {
    const port = await freePort();
    const started = Date.now();
    const error = await openError({ url: `postgres://bot:s3cret-pw@127.0.0.1:${port}/chatflow` });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.message).toBe(`Could not reach PostgreSQL at 127.0.0.1:${port} (from CHATFLOW_DATABASE_URL): connection refused (nothing listens there). Start the server or fix the URL.`);
    expect(error.message).not.toContain("s3cret");
  });

  it("a server that never answers: open() gives up after the connect timeout", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => void sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as { port: number };
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });
    const started = Date.now();
    const error = await openError({ url: `postgres://bot:s3cret-pw@127.0.0.1:${port}/chatflow`, connectTimeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(error.message).toBe(`Could not reach PostgreSQL at 127.0.0.1:${port} (from CHATFLOW_DATABASE_URL): no answer within 0.3 s. Start the server or fix the URL.`);
  });

  it("a host name that does not resolve is named", async () => {
    const error = await openError({ url: "postgres://bot:s3cret-pw@no-such-host.invalid:5432/chatflow", connectTimeoutMs: 3_000 });
    expect(error.message).toMatch(/^Could not reach PostgreSQL at no-such-host\.invalid:5432 \(from CHATFLOW_DATABASE_URL\): .+\. Start the server or fix the URL\.$/);
    expect(error.message).not.toContain("s3cret");
  });

  it("a wrong password names the user and the variable, never the password", async () => {
    const url = await urlWith({ password: "wrong-s3cret" });
    const error = await openError({ url });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/refused the user "postgres" .*Fix the user and password in CHATFLOW_DATABASE_URL\./);
    expect(error.message).not.toContain("wrong-s3cret");
    expect(error.message).not.toContain(url);
    const noRole = await openError({ url: await urlWith({ user: "nobody_here", password: "x" }) });
    expect(noRole).toBeInstanceOf(ConfigError);
    expect(noRole.message).toMatch(/refused the user "nobody_here"/);
  });

  it("a database that does not exist is named with the command that makes it", async () => {
    const error = await openError({ url: await urlWith({ database: "chatflow_missing_db" }), urlFrom: "DATABASE_URL" });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/^The database "chatflow_missing_db" does not exist on PostgreSQL at 127\.0\.0\.1:\d+: create it \(createdb chatflow_missing_db\) or fix the database name in DATABASE_URL\.$/);
  });

  it("a URL or schema that can't be used is a ConfigError that does not repeat the URL", async () => {
    const bad = await openError({ url: "mysql://u:s3cret@h/db" });
    expect(bad).toBeInstanceOf(ConfigError);
    expect(bad.message).not.toContain("s3cret");
    const schema = await openError({ url: (await testDatabase()).url, schema: "Bad-Schema" });
    expect(schema).toBeInstanceOf(ConfigError);
    expect(schema.message).toMatch(/schema name "Bad-Schema"/);
  });
});

describe("schema", () => {
  it("three stores opening at once on an empty database all succeed; the migrations are applied once", async () => {
    const schema = freshSchema();
    const three = await Promise.all([open(schema), open(schema), open(schema)]);
    expect(three.every((s) => s.exclusive === false)).toBe(true);
    const client = new pg.Client({ connectionString: (await testDatabase()).url });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: number }>(`SELECT version FROM "${schema}".migrations ORDER BY version`);
      expect(rows.map((r) => r.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    } finally {
      await client.end();
    }
    await three[0]!.createTask(task("t1"));
    expect(await three[2]!.getTask("t1")).toEqual(task("t1"));
  });

  it("a schema newer than this chatflow is refused with what to do", async () => {
    const schema = freshSchema();
    await (await open(schema)).close();
    const client = new pg.Client({ connectionString: (await testDatabase()).url });
    await client.connect();
    await client.query(`INSERT INTO "${schema}".migrations (version, name) VALUES (${SCHEMA_VERSION + 41}, 'from the future')`);
    await client.end();
    const error = await openError({ url: (await testDatabase()).url, schema });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      `The database schema is at version ${SCHEMA_VERSION + 41}, newer than this chatflow (knows up to ${SCHEMA_VERSION}): upgrade chatflow, or point CHATFLOW_DATABASE_URL at another database.`,
    );
  });
});

/** A TCP proxy to the test server that can be cut and restored, to lose the database on purpose. */
async function cuttableProxy(target: URL): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const port = await freePort();
  const start = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("error", () => undefined);
          s.on("close", () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
      }).listen(port, "127.0.0.1", resolve);
    });
  const cut = async () => {
    const closed = new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    for (const s of sockets) s.destroy();
    await closed;
  };
  await start();
  cleanups.push(cut);
  return { port, cut, restore: start };
}

describe("health, the feed watch, close", () => {
  it("health() is not ok after a query failed for a connection reason, until one works again; no secret in it or the log", async () => {
    const direct = new URL((await testDatabase()).url);
    const proxy = await cuttableProxy(direct);
    const logger = recordingLogger();
    const url = await urlWith({ port: proxy.port });
    const store = await open(freshSchema(), { url, logger, connectTimeoutMs: 1_000 });
    await store.createTask(task("t1"));
    expect(store.health()).toEqual({ ok: true });
    await proxy.cut();
    const failed = await store.getTask("t1").then(
      () => undefined,
      (e: unknown) => e as ChatflowError,
    );
    expect(failed?.code).toBe("store");
    const health = store.health();
    expect(health.ok).toBe(false);
    expect(health.error).toMatch(new RegExp(`^PostgreSQL at 127\\.0\\.0\\.1:${proxy.port} could not be reached to read the task t1: `));
    await proxy.restore();
    expect(await store.getTask("t1")).toEqual(task("t1"));
    expect(store.health()).toEqual({ ok: true });
    const password = direct.password;
    for (const text of [failed!.message, health.error!, ...logger.lines]) {
      expect(text).not.toContain(url);
      expect(text).not.toContain(password);
    }
  });

  it("watchFeed uses one connection of its own, comes back after it is cut, and tells listeners to catch up", async () => {
    const app = `watch-${freshSchema()}`;
    const schema = freshSchema();
    const store = await open(schema, { applicationName: app });
    const other = await open(schema);
    const heard: number[] = [];
    const stopOne = store.watchFeed((seq) => heard.push(seq));
    const stopTwo = store.watchFeed(() => undefined);
    const admin = new pg.Client({ connectionString: (await testDatabase()).url });
    await admin.connect();
    cleanups.push(() => admin.end());
    const watchers = async () => (await admin.query(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, [`${app} listen`])).rows as Array<{ pid: number }>;
    await vi.waitFor(async () => expect(await watchers()).toHaveLength(1), { timeout: 5_000, interval: 20 });
    const [first] = await other.appendFeedEvents([{ type: "x", sessionId: "s1", at: 1, data: {} }]);
    await vi.waitFor(() => expect(heard).toContain(first!.seq), { timeout: 5_000, interval: 20 });

    // The watch's connection is killed; an event appended meanwhile is caught up on.
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [`${app} listen`]);
    const [missed] = await other.appendFeedEvents([{ type: "x", sessionId: "s1", at: 2, data: {} }]);
    await vi.waitFor(() => expect(heard.filter((seq) => seq >= missed!.seq).length).toBeGreaterThan(0), { timeout: 5_000, interval: 20 });
    await vi.waitFor(async () => expect(await watchers()).toHaveLength(1), { timeout: 5_000, interval: 20 });
    const [after] = await other.appendFeedEvents([{ type: "x", sessionId: "s1", at: 3, data: {} }]);
    await vi.waitFor(() => expect(heard).toContain(after!.seq), { timeout: 5_000, interval: 20 });
    stopOne();
    stopTwo();

    // close() ends the watch's connection and the pool.
    await store.close();
    // The server's backends end a moment after their clients said goodbye.
    const left = async () => (await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE $1`, [`${app}%`])).rows[0].n as number;
    await vi.waitFor(async () => expect(await left()).toBe(0), { timeout: 5_000, interval: 20 });
  });
});

describe("the feed's NOTIFY", () => {
  it("carries a small append's events, so a reader on another store needs no read; a large append sends only its last seq", async () => {
    const schema = freshSchema();
    const reader = await open(schema);
    const writer = await open(schema);
    const heard: Array<{ last: number; events?: Array<{ seq: number; type: string }> }> = [];
    const stop = reader.watchFeed((last, events) => heard.push({ last, ...(events ? { events: events.map((e) => ({ seq: e.seq, type: e.type })) } : {}) }));
    // The watch is set up when it reports the head (0: an empty feed).
    await vi.waitFor(() => expect(heard.length).toBeGreaterThan(0), { timeout: 5_000, interval: 20 });
    const small = await writer.appendFeedEvents([
      { type: "a", sessionId: "s1", at: 1, data: { text: "héllo \u0000 \"quoted\"" } },
      { type: "b", sessionId: "s1", at: 2, data: {} },
    ]);
    await vi.waitFor(() => expect(heard.at(-1)?.last).toBe(small.at(-1)!.seq), { timeout: 5_000, interval: 20 });
    expect(heard.at(-1)!.events).toEqual(small.map((e) => ({ seq: e.seq, type: e.type })));
    const [big] = await writer.appendFeedEvents([{ type: "c", sessionId: "s1", at: 3, data: { text: "x".repeat(10_000) } }]);
    await vi.waitFor(() => expect(heard.at(-1)?.last).toBe(big!.seq), { timeout: 5_000, interval: 20 });
    expect(heard.at(-1)!.events).toBeUndefined();
    stop();
  });
});

describe("signals between processes", () => {
  it("a signal sent through one store is heard by every store on the data, itself included; a reconnect makes everyone look again", async () => {
    const app = `sig-${freshSchema()}`;
    const schema = freshSchema();
    const a = await open(schema, { applicationName: app });
    const b = await open(schema);
    expect(hasSignals(a)).toBe(true);
    expect(hasSignals(createMemoryStore())).toBe(false);
    const heardA: string[] = [];
    const heardB: string[] = [];
    a.onSignal((topic, payload) => heardA.push(`${topic}:${payload}`));
    b.onSignal((topic, payload) => heardB.push(`${topic}:${payload}`));
    // Once listening, each is told to look (nothing sent before can be known to have been heard).
    await vi.waitFor(() => expect([heardA, heardB]).toEqual([["work:", "schedules:"], ["work:", "schedules:"]]), { timeout: 5_000, interval: 20 });
    await a.signal("cancel", "t-42");
    await b.signal("work");
    await vi.waitFor(() => expect(heardB.slice(2)).toEqual(["cancel:t-42", "work:"]), { timeout: 5_000, interval: 20 });
    await vi.waitFor(() => expect(heardA.slice(2)).toEqual(["cancel:t-42", "work:"]), { timeout: 5_000, interval: 20 });

    const admin = new pg.Client({ connectionString: (await testDatabase()).url });
    await admin.connect();
    cleanups.push(() => admin.end());
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [`${app} listen`]);
    await vi.waitFor(() => expect(heardA.slice(4)).toEqual(["work:", "schedules:"]), { timeout: 5_000, interval: 20 });
    await b.signal("schedules");
    await vi.waitFor(() => expect(heardA.slice(6)).toEqual(["schedules:"]), { timeout: 5_000, interval: 20 });
  });
});

describe("a process stalled inside a transaction", () => {
  it("has its session ended by the server after IDLE_IN_TRANSACTION_MS, so its locks don't hold up the other processes", async () => {
    const url = (await testDatabase()).url;
    const pool = createPool({ url }, targetOf(url, DATABASE_URL_ENV), quietLogger);
    try {
      const client = await pool.connect();
      client.on("error", () => undefined);
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock(42)");
      // Stalled (as a paused process would be): the server ends the session, and the lock is free for another.
      await new Promise((resolve) => setTimeout(resolve, IDLE_IN_TRANSACTION_MS + 1500));
      const other = await pool.connect();
      try {
        const { rows } = await other.query<{ got: boolean }>("SELECT pg_try_advisory_lock(42) AS got");
        expect(rows[0]!.got).toBe(true);
      } finally {
        other.release();
      }
      await expect(client.query("SELECT 1")).rejects.toThrow();
      client.release(true);
    } finally {
      await pool.end();
    }
  }, 20_000);
});

describe("fenced journal writes", () => {
  it("appendJournal with leaseOwner stores only while that owner holds the lease; otherwise conflict and nothing stored", async () => {
    const store = await open(freshSchema());
    await store.createSession(session("s1"));
    await store.createTask(task("t1", { sessionId: "s1" }));
    const [claimed] = await store.claimTasks("one", 60_000, 1);
    expect(claimed?.id).toBe("t1");
    await store.appendJournal("t1", "step:a#0", { value: 1, at: 1 }, { leaseOwner: "one" });
    const refused = await store.appendJournal("t1", "step:b#0", { value: 2, at: 2 }, { leaseOwner: "two" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ChatflowError);
    expect((refused as ChatflowError).code).toBe("conflict");
    expect([...(await store.getJournal("t1")).keys()]).toEqual(["step:a#0"]);
  });
});

describe("text PostgreSQL can't keep", () => {
  it("a message holding a NUL character is stored with U+FFFD in its place, and a written-out \\u0000 stays as typed", async () => {
    const store = await open(freshSchema());
    await store.createSession(session("s1"));
    await store.appendMessage(message("s1", 1, { text: "a\u0000b \\u0000 c" }));
    const [stored] = await store.listMessages("s1", 10);
    expect(stored!.text).toBe("a\ufffdb \\u0000 c");
  });
});

describe("task claims", () => {
  it("the postgres store offers them, the memory store does not", async () => {
    expect(hasTaskClaims(await open(freshSchema()))).toBe(true);
    expect(hasTaskClaims(createMemoryStore())).toBe(false);
  });

  it("claimTasks skips a session another claimer holds, and takes it once that claimer is done", async () => {
    const schema = freshSchema();
    const store = await open(schema);
    await store.createTask(task("a1", { sessionId: "sa", createdAt: 1 }));
    await store.createTask(task("b1", { sessionId: "sb", createdAt: 2 }));
    const other = new pg.Client({ connectionString: (await testDatabase()).url });
    await other.connect();
    cleanups.push(() => other.end());
    await other.query("BEGIN");
    await other.query("SELECT pg_advisory_xact_lock($1::int, hashtext('sa'))", [sessionLockClass(schema)]);
    expect((await store.claimTasks("p1", 30_000, 5)).map((t) => t.id)).toEqual(["b1"]);
    await other.query("COMMIT");
    expect((await store.claimTasks("p1", 30_000, 5)).map((t) => t.id)).toEqual(["a1"]);
    expect(await store.claimTasks("p1", 30_000, 5)).toEqual([]);
  });
});
