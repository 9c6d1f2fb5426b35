import { mkdirSync } from "node:fs";
import path from "node:path";
import { pino, destination, type Logger } from "pino";

export type { Logger };

/**
 * Paths redacted from every log line. Tokens and secrets are also never put in log
 * objects on purpose; this is the safety net.
 */
export const REDACT_PATHS = [
  "token",
  "*.token",
  "secret",
  "*.secret",
  "password",
  "*.password",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "config.adapters.*.token",
  "config.adapters.*.botToken",
  "config.adapters.*.signingSecret",
];

export interface LoggerOptions {
  level: string;
  /** A file path, or `-` for stderr. */
  file: string;
}

/** Structured JSON logs (pino) with secrets redacted. */
export function createLogger(options: LoggerOptions): Logger {
  const redact = { paths: REDACT_PATHS, censor: "[redacted]" };
  if (options.level === "silent") return pino({ level: "silent" });
  if (options.file === "-") return pino({ level: options.level, redact }, destination(2));
  mkdirSync(path.dirname(path.resolve(options.file)), { recursive: true });
  return pino({ level: options.level, redact }, destination({ dest: options.file, sync: false, mkdir: true }));
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
