/**
 * Stores on the test run's PostgreSQL (test/postgres/): one database per test file, and a
 * schema of its own per harness (a fresh schema is much quicker to make than a database).
 */
import { newId } from "../../src/ids.ts";
import { createPostgresStore, type PostgresStore, type PostgresStoreOptions } from "../../src/store/postgres/index.ts";
import { freshDatabase, type TestDatabase } from "../postgres/database.ts";
import type { StoreHarness } from "./contract.ts";

export type { PostgresStore };

export const quietLogger = { warn: () => undefined, info: () => undefined };

/** A schema name no other harness uses. */
export function freshSchema(): string {
  return `t_${newId(6).toLowerCase().replace(/[^a-z0-9]/g, "_")}`;
}

/** The database of this test file, made on first use; `dropDatabase()` in afterAll. */
let database: Promise<TestDatabase> | undefined;
export function testDatabase(): Promise<TestDatabase> {
  database ??= freshDatabase();
  return database;
}
export async function dropDatabase(): Promise<void> {
  const db = await database;
  database = undefined;
  await db?.drop();
}

/** Opens a store on the file's database; `schema` names the harness's schema. */
export async function openPostgres(schema: string, options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> {
  const { url } = await testDatabase();
  const store = createPostgresStore({ url, schema, logger: quietLogger, poolSize: 4, ...options });
  await store.open();
  return store;
}

/** A StoreHarness on a fresh schema: `reopen` opens a new store object on the same schema. */
export async function postgresHarness(): Promise<StoreHarness & { schema: string }> {
  const schema = freshSchema();
  const opened: PostgresStore[] = [];
  const open = async () => {
    const store = await openPostgres(schema);
    opened.push(store);
    return store;
  };
  return {
    schema,
    store: await open(),
    reopen: open,
    cleanup: async () => {
      for (const s of opened.splice(0)) await s.close();
    },
  };
}
