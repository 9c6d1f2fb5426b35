/**
 * Process-level failures in a test, caught and shown instead of lost. discord.js 14.28 throws
 * some errors where no promise of the test can catch them (a malformed INTERACTION_CREATE
 * rejects inside its gateway handler), and Vitest 4 stands aside as soon as another
 * `unhandledRejection`/`uncaughtException` listener exists ("assume that it's handled by user
 * code") — a bot that installs its own logging policy would make such failures silent in its
 * tests. Install this in a suite, take the errors a test expects, and call `assertNone()` after
 * each test: anything else fails the test with the errors listed.
 */

export interface ProcessError {
  kind: "unhandledRejection" | "uncaughtException";
  error: unknown;
  at: number;
}

const describe = (e: ProcessError) => `${e.kind}: ${e.error instanceof Error ? `${e.error.message}\n${e.error.stack?.split("\n").slice(1, 4).join("\n")}` : String(e.error)}`;

export class ProcessErrors {
  /** Errors recorded and not taken yet, in order. */
  readonly errors: ProcessError[] = [];
  readonly #onRejection = (error: unknown) => void this.errors.push({ kind: "unhandledRejection", error, at: Date.now() });
  readonly #onException = (error: unknown) => void this.errors.push({ kind: "uncaughtException", error, at: Date.now() });

  /** Starts recording (Vitest then leaves these events to this recorder). */
  install(): this {
    process.on("unhandledRejection", this.#onRejection);
    process.on("uncaughtException", this.#onException);
    return this;
  }

  /** Stops recording; throws if errors are left untaken. */
  uninstall(): void {
    process.off("unhandledRejection", this.#onRejection);
    process.off("uncaughtException", this.#onException);
    this.assertNone();
  }

  /** Waits for an error matching, removes it from `errors` and returns it. */
  async take(match: (error: unknown) => boolean, timeoutMs = 5000): Promise<ProcessError> {
    const started = Date.now();
    for (;;) {
      const index = this.errors.findIndex((e) => match(e.error));
      if (index >= 0) return this.errors.splice(index, 1)[0]!;
      if (Date.now() - started > timeoutMs) throw new Error(`No process-level error matched within ${timeoutMs} ms. Recorded: ${this.errors.map(describe).join("; ") || "none"}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Throws (listing them) if any errors were recorded and not taken; clears them. */
  assertNone(): void {
    if (this.errors.length === 0) return;
    const listed = this.errors.splice(0).map(describe).join("\n\n");
    throw new Error(`Process-level errors during the test (unhandled rejections or uncaught exceptions):\n${listed}`);
  }
}
