/**
 * Leadership (src/store/coordination.ts): one row per led connection, taken by an upsert that
 * succeeds only for the holder or once the lease ran out on the database clock.
 */
import { NOW_MS, type Db } from "./db.ts";

export class Leaders {
  constructor(private readonly db: Db) {}

  async lead(name: string, owner: string, leaseMs: number): Promise<boolean> {
    const t = this.db.t;
    const { rowCount } = await this.db.query(
      `lead ${name}`,
      `INSERT INTO ${t.leaders} AS l (name, owner, until) VALUES ($1, $2, ${NOW_MS} + $3::float8)
       ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, until = EXCLUDED.until
       WHERE l.owner = EXCLUDED.owner OR l.until <= ${NOW_MS}`,
      [name, owner, leaseMs],
    );
    return (rowCount ?? 0) > 0;
  }

  async resign(name: string, owner: string): Promise<void> {
    await this.db.query(`give up the lead of ${name}`, `DELETE FROM ${this.db.t.leaders} WHERE name = $1 AND owner = $2`, [name, owner]);
  }
}
