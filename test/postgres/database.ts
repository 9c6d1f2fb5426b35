/**
 * A database of its own for a test: created on the run's server (global-setup.ts), dropped
 * (with any connection still open to it) at `drop()`.
 */
import pg from "pg";
import { inject } from "vitest";
import { newId } from "../../src/ids.ts";

export interface TestDatabase {
  /** Connection string of the new database (the secret a store reads from CHATFLOW_DATABASE_URL). */
  url: string;
  name: string;
  drop(): Promise<void>;
}

export async function freshDatabase(): Promise<TestDatabase> {
  const adminUrl = inject("postgresAdminUrl");
  const name = `chatflow_test_${newId(8).toLowerCase().replace(/[^a-z0-9]/g, "")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
