import { parseArgs } from "node:util";
import { createBot, type Bot } from "./app.ts";
import { loadConfig } from "./config/load.ts";
import { ChatflowError } from "./errors.ts";

const USAGE = `Usage: chatflow start [--config <file>]

Commands:
  start            run the bot with the adapters enabled in the configuration
                   (default: the console chat on the embedded default configuration)

Options:
  -c, --config     configuration file (YAML); default: $CHATFLOW_CONFIG, else config/chatflow.yaml
  -h, --help       show this help`;

/** Something the user can fix: print the message alone, no stack trace. */
function fail(error: unknown): never {
  if (error instanceof ChatflowError) process.stderr.write(`chatflow: ${error.message}\n`);
  else process.stderr.write(`chatflow: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}

async function start(configFile: string | undefined): Promise<void> {
  const config = await loadConfig(configFile);
  const bot: Bot = await createBot({ config });
  let stopping: Promise<void> | undefined;
  const shutdown = (code: number): Promise<void> => {
    stopping ??= bot
      .stop()
      .catch((error: unknown) => {
        process.stderr.write(`chatflow: error while stopping: ${String(error)}\n`);
      })
      .finally(() => process.exit(code));
    return stopping;
  };
  // The first signal stops gracefully; a second one quits at once.
  const onSignal = (code: number) => () => (stopping ? process.exit(code) : void shutdown(code));
  process.on("SIGINT", onSignal(130));
  process.on("SIGTERM", onSignal(143));
  await bot.start();
  if (process.stdout.isTTY) {
    process.stdout.write(`chatflow is running: type a request, or /help. Ctrl-C quits (tasks resume next time).\n`);
  }
  // The console adapter ends when its input ends (a pipe closed, Ctrl-D): then stop cleanly.
  const consoleAdapter = bot.adapters.find((adapter) => adapter.platform === "console") as { ended?: Promise<void> } | undefined;
  if (consoleAdapter?.ended && bot.adapters.length === 1) {
    await consoleAdapter.ended;
    if (stopping) return;
    // Let running tasks finish or park on a question before leaving.
    await bot.runner.idle();
    await shutdown(0);
  }
}

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { config: { type: "string", short: "c" }, help: { type: "boolean", short: "h" } } });
  } catch (error) {
    process.stderr.write(`chatflow: ${(error as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  const [command = "start", ...rest] = parsed.positionals;
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (command !== "start" || rest.length > 0) {
    process.stderr.write(`chatflow: unknown command "${[command, ...rest].join(" ")}"\n\n${USAGE}\n`);
    process.exit(2);
  }
  await start(parsed.values.config);
}

main(process.argv.slice(2)).catch(fail);
