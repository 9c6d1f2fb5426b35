/**
 * The PostgreSQL store: any number of chatflow processes share one database.
 *
 * Every table lives in one schema (default `chatflow`), created and migrated at open()
 * (migrate.ts). Records are kept whole as jsonb with generated columns for what queries
 * filter and sort on. Guarantees across processes: one open session per key (a partial
 * unique index, sessions.ts), conditional updates in one statement (tasks.ts), event claims
 * in one INSERT … ON CONFLICT (tasks.ts), one feed numbered in commit order (feed.ts), task
 * claims with leases on the database clock (claims.ts). Within one store object, writes to one
 * record, message appends and feed appends keep their call order, as in the other stores.
 *
 * The URL is a secret: it appears in no log line and no error (errors.ts).
 */
import type { Limiter, LimiterOptions, SharedLimits } from "../limits.ts";
import { PostgresLimiter } from "./limits.ts";
import type pg from "pg";
import { ChatflowError } from "../../errors.ts";
import type { Message, Session } from "../../model.ts";
import type { Leadership, TaskClaims } from "../coordination.ts";
import type { FeedFilter, FeedPageRequest, Page, PageRequest, SessionFilter, Store, TaskFilter, UpdateTaskOptions } from "../port.ts";
import type { FeedRecord, JournalEntry, NewFeedRecord, OutboxRecord, Schedule, Task } from "../records.ts";
import { Claims } from "./claims.ts";
import { Leaders } from "./leaders.ts";
import {
  checkSchema,
  clientConfig,
  createPool,
  DATABASE_URL_ENV,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_SCHEMA,
  targetOf,
  type PostgresStoreLogger,
  type PostgresStoreOptions,
} from "./connect.ts";
import { Db } from "./db.ts";
import { openFailure } from "./errors.ts";
import { Feed, feedChannel } from "./feed.ts";
import type { SignalTopic, StoreSignals } from "../signals.ts";
import type { StoreImport } from "../import.ts";
import { StoreImporter } from "./import.ts";
import { migrate } from "./migrate.ts";
import { Schedules } from "./schedules.ts";
import { KeyedSerial } from "./serial.ts";
import { Sessions } from "./sessions.ts";
import { Tasks } from "./tasks.ts";
import { Listen } from "./watch.ts";

export { DATABASE_URL_ENV, DATABASE_URL_FALLBACK_ENV, databaseUrlFromEnv, type PostgresStoreOptions } from "./connect.ts";
export { SCHEMA_VERSION } from "./migrate.ts";

/** The PostgreSQL store: a Store with task claims, a feed watch, health, and StoreImport. */
export type PostgresStore = Store &
  TaskClaims &
  Leadership &
  SharedLimits &
  StoreImport &
  StoreSignals & {
    watchFeed(listener: (lastSeq: number, events?: FeedRecord[]) => void): () => void;
    feedHead(): Promise<number>;
    health(): { ok: boolean; error?: string };
  };

/** The NOTIFY channel of a schema's signals (StoreSignals). */
const signalChannel = (schema: string) => `${schema}_signal`;

const consoleLogger: PostgresStoreLogger = { warn: (obj, msg) => console.warn(`chatflow store: ${msg}`, obj) };

interface Parts {
  db: Db;
  sessions: Sessions;
  tasks: Tasks;
  feed: Feed;
  schedules: Schedules;
  claims: Claims;
  leaders: Leaders;
  listen: Listen;
  importer: StoreImporter;
}

class PgStore implements PostgresStore {
  readonly exclusive = false;
  readonly #options: PostgresStoreOptions;
  readonly #logger: PostgresStoreLogger;
  readonly #serial = new KeyedSerial();
  #parts: Parts | undefined;
  #status: "new" | "opening" | "open" | "closed" = "new";

  constructor(options: PostgresStoreOptions) {
    this.#options = options;
    this.#logger = options.logger ?? consoleLogger;
  }

  async open(): Promise<void> {
    if (this.#status !== "new") throw new ChatflowError("store", this.#status === "closed" ? "The store is closed: make a new one to open it again." : "The store is already open.");
    this.#status = "opening";
    const options = this.#options;
    const from = options.urlFrom ?? DATABASE_URL_ENV;
    const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    let pool: pg.Pool | undefined;
    try {
      const schema = checkSchema(options.schema ?? DEFAULT_SCHEMA);
      const target = targetOf(options.url, from);
      pool = createPool(options, target, this.#logger);
      const db = new Db(pool, schema, target, options.url, timeoutMs);
      const applied = await migrate(db, from).catch((error: unknown) => {
        throw openFailure(error, target, options.url, timeoutMs);
      });
      if (applied.length > 0) this.#logger.info?.({ host: target.host, port: target.port, database: target.database, schema, versions: applied }, "PostgreSQL schema migrated");
      const feed = new Feed(db);
      this.#parts = {
        db,
        sessions: new Sessions(db, this.#serial),
        tasks: new Tasks(db, this.#serial),
        feed,
        schedules: new Schedules(db, this.#serial),
        claims: new Claims(db),
        leaders: new Leaders(db),
        listen: new Listen({
          config: clientConfig(options, " listen"),
          feedChannel: feedChannel(schema),
          signalChannel: signalChannel(schema),
          lastSeq: () => feed.lastSeq(),
          logger: this.#logger,
          where: target,
        }),
        importer: new StoreImporter(db),
      };
      this.#status = "open";
    } catch (error) {
      this.#status = "new";
      await pool?.end().catch(() => undefined);
      throw error;
    }
  }

  /** Waits for the writes under way, then ends the LISTEN connection and the pool. */
  async close(): Promise<void> {
    const parts = this.#parts;
    if (this.#status !== "open" || !parts) return;
    this.#status = "closed";
    try {
      await Promise.all([parts.sessions.drain(), parts.feed.drain(), this.#serial.drain()]);
    } finally {
      await parts.listen.close();
      await parts.db.pool.end().catch(() => undefined);
    }
  }

  /** `ok: false` after a query failed for a connection reason, until a later query works. */
  health(): { ok: boolean; error?: string } {
    return this.#parts?.db.health() ?? { ok: true };
  }

  #open(): Parts {
    if (this.#status !== "open" || !this.#parts) {
      throw new ChatflowError("store", this.#status === "closed" ? "The store is closed." : "The store is not open yet: call open() first.");
    }
    return this.#parts;
  }

  createSession = async (session: Session): Promise<void> => this.#open().sessions.create(session);
  getSession = async (id: string): Promise<Session | undefined> => this.#open().sessions.get(id);
  findOpenSession = async (key: string): Promise<Session | undefined> => this.#open().sessions.findOpen(key);
  updateSession = async (id: string, patch: Partial<Omit<Session, "id">>): Promise<Session | undefined> => this.#open().sessions.update(id, patch);
  listSessions = async (filter?: SessionFilter, page?: PageRequest): Promise<Page<Session>> => this.#open().sessions.list(filter, page);

  appendMessage = async (message: Message): Promise<void> => this.#open().sessions.appendMessage(message);
  listMessages = async (sessionId: string, limit: number): Promise<Message[]> => this.#open().sessions.listMessages(sessionId, limit);

  createTask = async (task: Task): Promise<void> => this.#open().tasks.create(task);
  getTask = async (id: string): Promise<Task | undefined> => this.#open().tasks.get(id);
  updateTask = async (id: string, patch: Partial<Omit<Task, "id" | "rev">>, options?: UpdateTaskOptions): Promise<Task | undefined> => this.#open().tasks.update(id, patch, options);
  listTasks = async (filter?: TaskFilter, page?: PageRequest): Promise<Page<Task>> => this.#open().tasks.list(filter, page);
  deleteTasks = async (ids: string[]): Promise<void> => this.#open().tasks.delete(ids);

  getJournal = async (taskId: string): Promise<Map<string, JournalEntry>> => this.#open().tasks.getJournal(taskId);
  appendJournal = async (taskId: string, key: string, entry: JournalEntry, options?: { leaseOwner?: string }): Promise<void> => this.#open().tasks.appendJournal(taskId, key, entry, options);
  getOutbox = async (taskId: string): Promise<Map<string, OutboxRecord>> => this.#open().tasks.getOutbox(taskId);
  putOutbox = async (taskId: string, key: string, record: OutboxRecord): Promise<void> => this.#open().tasks.putOutbox(taskId, key, record);

  claimEvent = async (key: string, expiresAt: number): Promise<boolean> => this.#open().tasks.claimEvent(key, expiresAt);
  hasEvent = async (key: string): Promise<boolean> => this.#open().tasks.hasEvent(key);

  appendFeedEvents = async (events: NewFeedRecord[]): Promise<FeedRecord[]> => this.#open().feed.append(events);
  readFeed = async (filter?: FeedFilter, page?: FeedPageRequest): Promise<FeedRecord[]> => this.#open().feed.read(filter, page);
  pruneFeed = async (options: { before: number }): Promise<number> => this.#open().feed.prune(options.before);
  watchFeed = (listener: (lastSeq: number, events?: FeedRecord[]) => void): (() => void) => this.#open().listen.watchFeed(listener);
  feedHead = async (): Promise<number> => this.#open().feed.lastSeq();

  /** Tells every process on this database, this one included (NOTIFY); never rejects: a lost hint is logged. */
  signal = async (topic: SignalTopic, payload = ""): Promise<void> => {
    try {
      const { db } = this.#open();
      await db.query(`send the ${topic} signal`, "SELECT pg_notify($1, $2)", [signalChannel(db.schema), `${topic}:${payload}`]);
    } catch (error) {
      this.#logger.warn({ topic, error: (error as Error).message }, `the ${topic} signal was not sent (other processes find the work later)`);
    }
  };
  onSignal = (listener: (topic: SignalTopic, payload: string) => void): (() => void) => this.#open().listen.onSignal(listener);

  createSchedule = async (schedule: Schedule): Promise<void> => this.#open().schedules.create(schedule);
  getSchedule = async (id: string): Promise<Schedule | undefined> => this.#open().schedules.get(id);
  updateSchedule = async (id: string, patch: Partial<Omit<Schedule, "id" | "rev">>, options?: { ifRev?: number }): Promise<Schedule | undefined> =>
    this.#open().schedules.update(id, patch, options);
  listSchedules = async (): Promise<Schedule[]> => this.#open().schedules.list();
  deleteSchedule = async (id: string): Promise<void> => this.#open().schedules.delete(id);

  claimTasks = async (owner: string, leaseMs: number, limit: number): Promise<Task[]> => this.#open().claims.claimTasks(owner, leaseMs, limit);
  renewLease = async (taskId: string, owner: string, leaseMs: number): Promise<boolean> => this.#open().claims.renewLease(taskId, owner, leaseMs);
  dbNow = async (): Promise<number> => this.#open().claims.dbNow();

  lead = async (name: string, owner: string, leaseMs: number): Promise<boolean> => this.#open().leaders.lead(name, owner, leaseMs);
  /** A rate limit counted in the database for every process on it (built at its first use, once the store is open). */
  limiter = (options: LimiterOptions): Limiter => new PostgresLimiter(() => this.#open().db, options);
  resign = async (name: string, owner: string): Promise<void> => this.#open().leaders.resign(name, owner);

  importSessions = async (sessions: Session[]): Promise<void> => this.#open().importer.importSessions(sessions);
  importMessages = async (sessionId: string, messages: Message[]): Promise<void> => this.#open().importer.importMessages(sessionId, messages);
  importTasks = async (tasks: Task[]): Promise<void> => this.#open().importer.importTasks(tasks);
  importJournal = async (taskId: string, entries: Map<string, JournalEntry>): Promise<void> => this.#open().importer.importJournal(taskId, entries);
  importOutbox = async (taskId: string, records: Map<string, OutboxRecord>): Promise<void> => this.#open().importer.importOutbox(taskId, records);
  importSchedules = async (schedules: Schedule[]): Promise<void> => this.#open().importer.importSchedules(schedules);
  importFeed = async (events: FeedRecord[]): Promise<void> => this.#open().importer.importFeed(events);
}

/**
 * A store in PostgreSQL, shared by any number of chatflow processes (`exclusive` is false).
 * Call `open()` first: it connects (failing within the connect timeout, with a sentence that
 * says what to do) and creates or migrates the tables. It also offers task claims
 * (src/store/coordination.ts), watchFeed, and StoreImport (src/store/import.ts, for copyStore).
 */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  return new PgStore(options);
}
