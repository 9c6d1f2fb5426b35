import { afterAll, expect, it } from "vitest";
import pg from "pg";
import { freshDatabase, type TestDatabase } from "./database.ts";

let db: TestDatabase | undefined;
afterAll(() => db?.drop());

it("the test run has a PostgreSQL 17 server and a database of its own for this file", async () => {
  db = await freshDatabase();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string; d: string }>("select current_setting('server_version_num') as v, current_database() as d");
    expect(Number(rows[0]!.v)).toBeGreaterThanOrEqual(140000);
    expect(rows[0]!.d).toBe(db.name);
  } finally {
    await client.end();
  }
});
