import { ChatflowError, type ErrorCode } from "./errors.ts";
import type { Logger } from "./logger.ts";
import type { InboundEvent } from "./model.ts";
import type { Task } from "./store/records.ts";

/** Where in the engine an error happened, and what it belongs to. */
export interface ErrorContext {
  /** `inbound`: handling an event; `task`: running a task; `schedule`: a schedule's fire; `maintenance`: the periodic sweep. */
  where: "inbound" | "task" | "schedule" | "maintenance";
  /** The inbound event being handled (`inbound`). */
  event?: InboundEvent;
  /** The task, as stored when it failed (`task`). */
  task?: Task;
  /** The schedule's id (`schedule`). */
  scheduleId?: string;
}

/**
 * An error the engine caught and handled (logged, the person told), handed to `onError`
 * with what it belongs to, as grammY's `bot.catch` gets a BotError with its context. The
 * original error is `error` (and `cause`); its code is kept when it is a ChatflowError.
 */
export class BotError extends ChatflowError {
  readonly error: unknown;
  readonly context: ErrorContext;

  constructor(error: unknown, context: ErrorContext) {
    const code: ErrorCode = error instanceof ChatflowError ? error.code : "workflow";
    super(code, `${describe(context)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    this.error = error;
    this.context = context;
  }
}

function describe(context: ErrorContext): string {
  if (context.where === "inbound") return `Handling ${context.event?.kind ?? "an"} event ${context.event?.id ?? ""} from ${context.event?.address.platform ?? "?"}`.replace("  ", " ");
  if (context.where === "task") return `Task ${context.task?.id ?? "?"} (${context.task?.workflow ?? "?"})`;
  if (context.where === "schedule") return `Schedule ${context.scheduleId ?? "?"}`;
  return "The maintenance sweep";
}

/** Receives every error the engine handles; what it throws or rejects is logged, never fatal. */
export type ErrorHandler = (error: BotError) => void | Promise<void>;

/** Reports an error: logs it at `error` with `fields` and hands it to the handler. */
export type ReportError = (error: unknown, context: ErrorContext, message: string, fields?: Record<string, unknown>) => void;

/** The engine's one way to report an error it handled: the log line it always wrote, and `onError`. */
export function errorReporter(log: Logger, onError?: ErrorHandler): ReportError {
  return (error, context, message, fields = {}) => {
    log.error({ err: error, ...fields }, message);
    if (!onError) return;
    try {
      void Promise.resolve(onError(new BotError(error, context))).catch((failure: unknown) => log.warn({ err: failure }, "onError failed"));
    } catch (failure) {
      log.warn({ err: failure }, "onError failed");
    }
  };
}
