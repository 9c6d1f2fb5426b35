/**
 * Sessions and their messages. One open session per key across processes: a partial unique
 * index on `key` where the state is not `closed` (migrate.ts); its violation is the
 * `conflict` error the Store port documents.
 */
import { ChatflowError } from "../../errors.ts";
import type { Message, Session } from "../../model.ts";
import { openSessionConflict } from "../coordination.ts";
import type { Page, PageRequest, SessionFilter } from "../port.ts";
import { bounded, json, splitPatch, type Db } from "./db.ts";
import { isConnectionFailure, pgCode, pgConstraint } from "./errors.ts";
import { Conditions, pageOf } from "./paging.ts";
import { KeyedSerial, SerialBatcher } from "./serial.ts";

/** Whether a failure is the one-open-session-per-key index refusing a row. */
const openKeyTaken = (error: unknown) => pgCode(error) === "23505" && pgConstraint(error) === "sessions_open_key";

export class Sessions {
  readonly #messages: SerialBatcher<Message, void>;

  constructor(
    private readonly db: Db,
    private readonly serial: KeyedSerial,
  ) {
    this.#messages = new SerialBatcher((items) => this.#insertMessages(items), { maxBatch: 500, isolate: (e) => !isConnectionFailure(e) });
  }

  create(session: Session): Promise<void> {
    const data = json(bounded("session", session.id, session));
    return this.serial.run(`session:${session.id}`, async () => {
      try {
        await this.db.query(`store the session ${session.id}`, `INSERT INTO ${this.db.t.sessions} (id, data) VALUES ($1, $2)`, [session.id, data]);
      } catch (error) {
        if (pgCode(error) !== "23505") throw error;
        if (openKeyTaken(error) && !(await this.get(session.id))) {
          const open = await this.findOpen(session.key);
          throw new ChatflowError("conflict", openSessionConflict(session.key, open?.id ?? "another"), { cause: error });
        }
        throw new ChatflowError("store", `A session with id ${session.id} already exists.`, { cause: error });
      }
    });
  }

  async get(id: string): Promise<Session | undefined> {
    const { rows } = await this.db.query<{ data: Session }>(`read the session ${id}`, `SELECT data FROM ${this.db.t.sessions} WHERE id = $1`, [id]);
    return rows[0]?.data;
  }

  async findOpen(key: string): Promise<Session | undefined> {
    const { rows } = await this.db.query<{ data: Session }>(
      "find an open session",
      `SELECT data FROM ${this.db.t.sessions} WHERE key = $1 AND state <> 'closed' ORDER BY last_active_at DESC LIMIT 1`,
      [key],
    );
    return rows[0]?.data;
  }

  update(id: string, patch: Partial<Omit<Session, "id">>): Promise<Session | undefined> {
    const { set, remove } = splitPatch(patch, ["id"]);
    const data = json(bounded("session", id, set));
    return this.serial.run(`session:${id}`, async () => {
      try {
        const { rows } = await this.db.query<{ data: Session }>(
          `update the session ${id}`,
          `UPDATE ${this.db.t.sessions} SET data = ((data || $2::jsonb) - $3::text[]) || jsonb_build_object('id', id) WHERE id = $1 RETURNING data`,
          [id, data, remove],
        );
        return rows[0]?.data;
      } catch (error) {
        if (!openKeyTaken(error)) throw error;
        const key = patch.key ?? (await this.get(id))?.key ?? "";
        const open = await this.findOpen(key);
        throw new ChatflowError("conflict", openSessionConflict(key, open?.id ?? "another"), { cause: error });
      }
    });
  }

  async list(filter: SessionFilter = {}, page?: PageRequest): Promise<Page<Session>> {
    const where = new Conditions();
    if (filter.platform !== undefined) where.add("platform = $?", filter.platform);
    if (filter.user !== undefined) where.add("owner = $?", filter.user);
    where.oneOf("state", filter.state);
    if (filter.activeAfter !== undefined) where.add("last_active_at >= $?", filter.activeAfter);
    if (filter.activeBefore !== undefined) where.add("last_active_at < $?", filter.activeBefore);
    const run = async (sql: string, params: unknown[]) => (await this.db.query<{ data: Session; t: number; id: string }>("list sessions", sql, params)).rows;
    return pageOf(run, this.db.t.sessions, "last_active_at", where, page);
  }

  /** Appends in call order: appends made in the same tick, or while one is written, go in one INSERT. */
  async appendMessage(message: Message): Promise<void> {
    bounded("message", message.id, message);
    await this.#messages.push(message);
  }

  async #insertMessages(items: Message[]): Promise<void[]> {
    const what = items.length === 1 ? `store the message ${items[0]!.id}` : `store ${items.length} messages`;
    // Rows go in in array order, so the serial `n` follows the order of the calls.
    await this.db.query(
      what,
      `INSERT INTO ${this.db.t.messages} (session_id, data)
       SELECT m->>'sessionId', m FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(m, i) ORDER BY i`,
      [json(items)],
    );
    return items.map(() => undefined);
  }

  /** The last `limit` messages of a session, oldest first. */
  async listMessages(sessionId: string, limit: number): Promise<Message[]> {
    const n = Math.floor(limit);
    if (!(n > 0)) return [];
    const { rows } = await this.db.query<{ data: Message }>(
      `read the history of session ${sessionId}`,
      `SELECT data FROM ${this.db.t.messages} WHERE session_id = $1 ORDER BY n DESC LIMIT $2`,
      [sessionId, n],
    );
    return rows.map((r) => r.data).reverse();
  }

  /** Resolves once every message appended so far is written (or failed). */
  drain(): Promise<void> {
    return this.#messages.drain();
  }
}
