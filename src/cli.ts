import { parseArgs } from "node:util";
import { ADAPTER_NAMES, ADAPTERS, enableOnly, parseAdapterList, withDefaultAdapters } from "./adapter-table.ts";
import { createBot, type Bot } from "./app.ts";
import { loadConfig } from "./config/load.ts";
import { llmHalfConfigured } from "./workflows/assistant/provider.ts";
import { ChatflowError, ConfigError } from "./errors.ts";
import { storeCopy } from "./store-copy-command.ts";

const USAGE = `Usage: chatflow start [--config <file>] [--adapter <name>]... [--store <driver>]
       chatflow store copy --from <dir> --to postgres [--config <file>]

Commands:
  start            run the bot with the adapters enabled in the configuration
                   (default: the console chat on the embedded default configuration)
  store copy       copy a lowdb data directory (sessions, history, tasks with their journals,
                   waiting questions, schedules, the event feed) into PostgreSQL at
                   $CHATFLOW_DATABASE_URL; safe to run again

Options:
  -c, --config     configuration file (YAML); default: $CHATFLOW_CONFIG, else config/chatflow.yaml
  -a, --adapter    run exactly these adapters, whatever the file enables (repeat it, or give a
                   comma list: --adapter telegram,console); default: $CHATFLOW_ADAPTERS
  -s, --store      lowdb, postgres or memory, whatever the file says (postgres reads its
                   connection string from $CHATFLOW_DATABASE_URL, else $DATABASE_URL)
      --from, --to with store copy: the lowdb directory, and postgres
  -h, --help       show this help

Adapters:
${ADAPTER_NAMES.map((name) => `  ${name.padEnd(16)} ${ADAPTERS[name]!.description}`).join("\n")}`;

/** Something the user can fix: print the message alone, no stack trace. */
function fail(error: unknown): never {
  if (error instanceof ChatflowError) process.stderr.write(`chatflow: ${error.message}\n`);
  else process.stderr.write(`chatflow: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}

/** The adapters named by --adapter, else by CHATFLOW_ADAPTERS; undefined when neither is given. */
function chosenAdapters(flags: string[] | undefined, env: NodeJS.ProcessEnv): string[] | undefined {
  if (flags && flags.length > 0) return parseAdapterList(flags, "from --adapter");
  const fromEnv = env.CHATFLOW_ADAPTERS?.trim();
  return fromEnv ? parseAdapterList([fromEnv], "from CHATFLOW_ADAPTERS") : undefined;
}

const STORE_DRIVERS = ["lowdb", "postgres", "memory"] as const;

function storeDriver(flag: string | undefined): (typeof STORE_DRIVERS)[number] | undefined {
  if (flag === undefined) return undefined;
  if ((STORE_DRIVERS as readonly string[]).includes(flag)) return flag as (typeof STORE_DRIVERS)[number];
  throw new ConfigError(`--store ${flag}: choose one of ${STORE_DRIVERS.join(", ")}.`);
}

async function start(configFile: string | undefined, adapterFlags: string[] | undefined, storeFlag: string | undefined): Promise<void> {
  const adapters = chosenAdapters(adapterFlags, process.env);
  const driver = storeDriver(storeFlag);
  const file = await loadConfig(configFile);
  const loaded = driver ? { ...file, store: { ...file.store, driver } } : file;
  const config = adapters ? enableOnly(loaded, adapters) : withDefaultAdapters(loaded);
  const bot: Bot = await createBot({ config });
  // Said on the terminal too: someone who set llm: and sees the demo answer should know why.
  const halfConfigured = llmHalfConfigured(config, process.env);
  if (halfConfigured) process.stderr.write(`chatflow: ${halfConfigured}\n`);
  let stopping: Promise<void> | undefined;
  let starting: Promise<void> | undefined;
  const shutdown = (code: number): Promise<void> => {
    // A signal during start stops once the start is over (or failed): never alongside it.
    stopping ??= (starting ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => bot.stop())
      .catch((error: unknown) => {
        process.stderr.write(`chatflow: error while stopping: ${String(error)}\n`);
      })
      .finally(() => process.exit(code));
    return stopping;
  };
  // An SDK that rejects inside its own handlers (discord.js on a malformed dispatch) must not
  // take the bot down: log and go on. An exception nobody caught leaves unknown state: stop
  // cleanly (tasks resume at the next start) and exit non-zero for the supervisor.
  process.on("unhandledRejection", (reason) => bot.log.error({ err: reason }, "unhandled rejection (the bot goes on)"));
  process.on("uncaughtException", (error) => {
    bot.log.fatal({ err: error }, "uncaught exception; stopping");
    void shutdown(1);
  });
  // The first signal stops gracefully; a second one quits at once.
  const onSignal = (code: number) => () => (stopping ? process.exit(code) : void shutdown(code));
  process.on("SIGINT", onSignal(130));
  process.on("SIGTERM", onSignal(143));
  starting = bot.start();
  await starting;
  if (stopping) return;
  const consoleAdapter = bot.adapters.find((adapter) => adapter.platform === "console") as { ended?: Promise<void>; print?: (text: string) => void } | undefined;
  const webAdapter = bot.adapters.find((adapter) => adapter.platform === "web") as { url?: string; unavailable?: string } | undefined;
  const webUrl = webAdapter?.url;
  // A web chat that could not listen (its port taken, not required): the chat goes on, and says how to get it back.
  if (webAdapter?.unavailable) process.stderr.write(`chatflow: the web chat is off: ${webAdapter.unavailable}\n`);
  const web = webUrl ? ` The web chat is at ${webUrl}/ .` : "";
  if (process.stdout.isTTY) {
    const platforms = bot.adapters.map((adapter) => adapter.platform).join(", ");
    const banner = consoleAdapter
      ? `chatflow is running: type a request, or /help.${web} Ctrl-C quits (tasks resume next time).`
      : `chatflow is running on ${platforms}.${web} Ctrl-C stops it (tasks resume next time).`;
    // Through the console when it runs: a resumed task's progress line may be open, and the banner goes above what the person types.
    if (consoleAdapter?.print) consoleAdapter.print(banner);
    else process.stdout.write(`${banner}\n`);
  } else if (webUrl) {
    process.stderr.write(`chatflow: the web chat is at ${webUrl}/\n`);
  }
  // The console adapter ends when its input ends (a pipe closed, Ctrl-D): then stop cleanly,
  // unless a chat platform (Telegram, Slack, Discord) runs too. The web page started beside
  // the console by default does not keep the process up on its own.
  if (consoleAdapter?.ended && bot.adapters.every((adapter) => adapter.platform === "console" || adapter.platform === "web")) {
    await consoleAdapter.ended;
    if (stopping) return;
    // Let running tasks finish or park on a question before leaving.
    await bot.idle();
    await shutdown(0);
  }
}

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: "string", short: "c" },
        adapter: { type: "string", short: "a", multiple: true },
        store: { type: "string", short: "s" },
        from: { type: "string" },
        to: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    process.stderr.write(`chatflow: ${(error as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  const [command = "start", ...rest] = parsed.positionals;
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (command === "store" && rest.length === 1 && rest[0] === "copy") {
    await storeCopy(parsed.values.config, parsed.values.from, parsed.values.to);
    return;
  }
  if (command !== "start" || rest.length > 0) {
    process.stderr.write(`chatflow: unknown command "${[command, ...rest].join(" ")}"\n\n${USAGE}\n`);
    process.exit(2);
  }
  await start(parsed.values.config, parsed.values.adapter, parsed.values.store);
}

main(process.argv.slice(2)).catch(fail);
