/**
 * `chatflow store copy --from <dir> --to postgres`: a lowdb bot's data into PostgreSQL, for a
 * bot that outgrows one machine. The source is opened like a start would (its lock taken, so
 * the bot must be stopped), the target at CHATFLOW_DATABASE_URL; the copy is verbatim and
 * idempotent, so running it again after an interruption is safe.
 */
import path from "node:path";
import { loadConfig } from "./config/load.ts";
import { ConfigError } from "./errors.ts";
import { createLogger } from "./logger.ts";

export async function storeCopy(configFile: string | undefined, from: string | undefined, to: string | undefined): Promise<void> {
  if (!from) throw new ConfigError("store copy: say which lowdb directory to copy with --from <dir> (the bot's store.dir, e.g. data).");
  if (to !== "postgres") throw new ConfigError(`store copy: --to ${to ?? "(missing)"}: the one target is postgres (--to postgres), at CHATFLOW_DATABASE_URL.`);
  const config = await loadConfig(configFile);
  const log = createLogger({ level: "warn", file: "-" });
  const { createLowdbStore } = await import("./store/lowdb/index.ts");
  const { createPostgresStore, databaseUrlFromEnv } = await import("./store/postgres/index.ts");
  const { copyStore } = await import("./store/copy.ts");
  const dir = path.resolve(from);
  const source = createLowdbStore({ dir, logger: log });
  const target = createPostgresStore({ url: databaseUrlFromEnv(process.env), logger: log, schema: config.store.schema, poolSize: 4, applicationName: "chatflow store copy" });
  await source.open();
  try {
    await target.open();
    try {
      const { closedDuplicates, ...counts } = await copyStore(source, target);
      const said = Object.entries(counts)
        .map(([kind, n]) => `${n.toLocaleString("en-US")} ${kind === "journal" ? "journal entries" : kind === "outbox" ? "outbox records" : kind === "feed" ? "feed events" : kind}`)
        .join(", ");
      process.stdout.write(`Copied ${dir} into PostgreSQL (schema ${config.store.schema}): ${said}. The counts on both sides match.\n`);
      if (closedDuplicates.length > 0) {
        process.stdout.write(`${closedDuplicates.length} session(s) shared a key with a newer open one and were copied as closed: ${closedDuplicates.join(", ")}.\n`);
      }
      process.stdout.write("Start the bot with store.driver: postgres (or --store postgres) to run on it.\n");
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
