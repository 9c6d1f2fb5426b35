/** Schedules: conditional updates like tasks (a slot is claimed once across processes). */
import { ChatflowError } from "../../errors.ts";
import type { Schedule } from "../records.ts";
import { bounded, json, type Db } from "./db.ts";
import { pgCode } from "./errors.ts";
import type { KeyedSerial } from "./serial.ts";
import { REVISED, revisedParams } from "./tasks.ts";

export class Schedules {
  constructor(
    private readonly db: Db,
    private readonly serial: KeyedSerial,
  ) {}

  create(schedule: Schedule): Promise<void> {
    const data = json(bounded("schedule", schedule.id, schedule));
    return this.serial.run(`schedule:${schedule.id}`, async () => {
      try {
        await this.db.query(`store the schedule ${schedule.id}`, `INSERT INTO ${this.db.t.schedules} (id, data) VALUES ($1, $2)`, [schedule.id, data]);
      } catch (error) {
        if (pgCode(error) === "23505") throw new ChatflowError("store", `A schedule with id ${schedule.id} already exists.`, { cause: error });
        throw error;
      }
    });
  }

  async get(id: string): Promise<Schedule | undefined> {
    const { rows } = await this.db.query<{ data: Schedule }>(`read the schedule ${id}`, `SELECT data FROM ${this.db.t.schedules} WHERE id = $1`, [id]);
    return rows[0]?.data;
  }

  update(id: string, patch: Partial<Omit<Schedule, "id" | "rev">>, options: { ifRev?: number } = {}): Promise<Schedule | undefined> {
    const params: unknown[] = [id, ...revisedParams("schedule", id, patch)];
    let condition = "";
    if (options.ifRev !== undefined) {
      params.push(options.ifRev);
      condition = ` AND (data->>'rev')::float8 = $${params.length}`;
    }
    const sql = `UPDATE ${this.db.t.schedules} SET data = ${REVISED} WHERE id = $1${condition} RETURNING data`;
    return this.serial.run(`schedule:${id}`, async () => (await this.db.query<{ data: Schedule }>(`update the schedule ${id}`, sql, params)).rows[0]?.data);
  }

  /** Oldest first, ties by id as the memory store orders them (localeCompare). */
  async list(): Promise<Schedule[]> {
    const { rows } = await this.db.query<{ data: Schedule }>("list schedules", `SELECT data FROM ${this.db.t.schedules}`);
    return rows.map((r) => r.data).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  delete(id: string): Promise<void> {
    return this.serial.run(`schedule:${id}`, async () => {
      await this.db.query(`remove the schedule ${id}`, `DELETE FROM ${this.db.t.schedules} WHERE id = $1`, [id]);
    });
  }
}
