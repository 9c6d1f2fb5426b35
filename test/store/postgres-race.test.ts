import { afterAll } from "vitest";
import pg from "pg";
import { lockKey, tablesOf } from "../../src/store/postgres/db.ts";
import type { NewFeedRecord } from "../../src/store/records.ts";
import { dropDatabase, freshSchema, openPostgres, testDatabase } from "./postgres-harness.ts";
import { raceContract } from "./race-contract.ts";

afterAll(() => dropDatabase());

raceContract("postgres", async () => {
  const schema = freshSchema();
  const a = await openPostgres(schema, { applicationName: "race-a" });
  const b = await openPostgres(schema, { applicationName: "race-b" });
  const { url } = await testDatabase();
  const slow: pg.Client[] = [];
  /** A third process, by hand: the feed's lock, a seq, a pause, the event, commit. */
  const slowAppend = async (event: NewFeedRecord, delayMs: number): Promise<number> => {
    const client = new pg.Client({ connectionString: url });
    slow.push(client);
    await client.connect();
    const t = tablesOf(schema);
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [lockKey(schema, "feed")]);
      const seq = Number((await client.query<{ seq: string }>(`SELECT nextval('${t.feedSeq}') AS seq`)).rows[0]!.seq);
      await client.query("SELECT pg_sleep($1)", [delayMs / 1000]);
      await client.query(`INSERT INTO ${t.feed} (seq, session_id, task_id, at, data) VALUES ($1, $2, NULL, $3, $4)`, [seq, event.sessionId, event.at, JSON.stringify(event)]);
      await client.query("COMMIT");
      return seq;
    } finally {
      await client.end();
    }
  };
  return {
    a,
    b,
    slowAppend,
    cleanup: async () => {
      await Promise.all(slow.map((c) => c.end().catch(() => undefined)));
      await a.close();
      await b.close();
    },
  };
});
