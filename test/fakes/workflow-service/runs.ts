import type { CreateRunBody, RunState, WorkflowInterrupt, WorkflowResult } from "./protocol.ts";

/**
 * Runs and their scripts. A script is a list of phases; a new run stands before its first phase
 * (`running`, no progress) and each advance moves it one phase on: a progress phase keeps it
 * `running`, an interrupt makes it `interrupted` until resumed (the answer is recorded and resume
 * moves past the interrupt to the next phase), a result completes it, a fail fails it. A script
 * that ends without a result or fail leaves the run `running` at its last phase.
 */

/** A running phase: what `GET` reports as progress and step (carried forward until changed). */
export interface ProgressPhase {
  progress?: number;
  step?: string;
}
/** Waits for `POST /resume`. */
export interface InterruptPhase {
  interrupt: WorkflowInterrupt;
}
/**
 * Completes the run. In `text`, `{answer}` is the latest answer, `{answer:N}` the N-th (from 1),
 * `{input}` the input (strings as is, anything else as JSON); or a function of the run.
 */
export interface ResultPhase {
  result: WorkflowResult | ((run: FakeRun) => WorkflowResult);
}
/** Fails the run with this error. */
export interface FailPhase {
  fail: string;
}
export type Phase = ProgressPhase | InterruptPhase | ResultPhase | FailPhase;

/** A script, or one chosen per run from its create body. */
export type Script = Phase[] | ((body: CreateRunBody) => Phase[]);

/** The default script: two progress phases, then a result with a link. */
export const DEFAULT_SCRIPT: Phase[] = [
  { progress: 30, step: "Fetching" },
  { progress: 70, step: "Summarising" },
  { result: { text: "Done: {input}", links: [{ url: "https://example.com/report", title: "Report" }] } },
];

/** A run as the fake keeps it (tests read these; don't mutate). */
export interface FakeRun extends RunState {
  id: string;
  input: unknown;
  session: unknown;
  user: unknown;
  /** Answers given by resume, in order. */
  answers: string[];
  /** Whether `POST /cancel` (or `cancel(id)`) ended it. */
  cancelled: boolean;
  /** The phase it is at (-1: before the first). */
  phase: number;
  /** Its script (fixed at creation). */
  script: Phase[];
  /** `GET`s answered for it. */
  polls: number;
  createdAt: number;
}

export class Runs {
  readonly list: FakeRun[] = [];
  readonly #byId = new Map<string, FakeRun>();
  /** Ids removed by `forget` (404 without a violation). */
  readonly forgotten = new Set<string>();
  #next = 1;

  constructor(private readonly changed: () => void) {}

  create(body: CreateRunBody, script: Script): FakeRun {
    const phases = typeof script === "function" ? script(body) : script;
    const run: FakeRun = {
      id: `run-${this.#next++}`, input: body.input, session: body.session, user: body.user,
      status: "running", answers: [], cancelled: false, phase: -1, script: [...phases], polls: 0, createdAt: Date.now(),
    };
    this.list.push(run);
    this.#byId.set(run.id, run);
    this.changed();
    return run;
  }

  get(id: string): FakeRun | undefined {
    return this.#byId.get(id);
  }

  forget(id: string): void {
    const run = this.#byId.get(id);
    if (!run) return;
    this.#byId.delete(id);
    this.list.splice(this.list.indexOf(run), 1);
    this.forgotten.add(id);
    this.changed();
  }

  /** Moves a `running` run `steps` phases on (interrupted or finished runs don't move). */
  advance(run: FakeRun, steps = 1): void {
    for (let i = 0; i < steps && run.status === "running" && run.phase < run.script.length - 1; i++) this.#enter(run, run.phase + 1);
    this.changed();
  }

  /** Records the answer and moves past the interrupt. */
  resume(run: FakeRun, answer: string): void {
    run.answers.push(answer);
    run.status = "running";
    delete run.interrupt;
    if (run.phase < run.script.length - 1) this.#enter(run, run.phase + 1);
    this.changed();
  }

  /** Ends the run at once: `failed` with error "cancelled". */
  cancel(run: FakeRun): void {
    run.cancelled = true;
    this.end(run, { fail: "cancelled" });
  }

  /** Ends an unfinished run with a result or failure, whatever phase it is at. */
  end(run: FakeRun, phase: ResultPhase | FailPhase): void {
    if (run.status === "completed" || run.status === "failed") return;
    delete run.interrupt;
    this.#apply(run, phase);
    this.changed();
  }

  #enter(run: FakeRun, index: number): void {
    run.phase = index;
    this.#apply(run, run.script[index]!);
  }

  #apply(run: FakeRun, phase: Phase): void {
    if ("interrupt" in phase) {
      run.status = "interrupted";
      run.interrupt = { ...phase.interrupt };
    } else if ("result" in phase) {
      run.status = "completed";
      const result = typeof phase.result === "function" ? phase.result(run) : phase.result;
      run.result = { ...result, text: fillTemplate(result.text, run) };
      run.progress = 100;
    } else if ("fail" in phase) {
      run.status = "failed";
      run.error = phase.fail;
    } else {
      run.status = "running";
      if (phase.progress !== undefined) run.progress = phase.progress;
      if (phase.step !== undefined) run.step = phase.step;
    }
  }
}

/** `GET /runs/{id}`'s body for a run: only the fields its status calls for. */
export function stateOf(run: FakeRun): RunState {
  const state: RunState = { status: run.status };
  if (run.progress !== undefined) state.progress = run.progress;
  if (run.step !== undefined) state.step = run.step;
  if (run.status === "interrupted" && run.interrupt) state.interrupt = run.interrupt;
  if (run.status === "completed" && run.result) state.result = run.result;
  if (run.status === "failed" && run.error !== undefined) state.error = run.error;
  return state;
}

function fillTemplate(text: string, run: FakeRun): string {
  return text
    .replace(/\{answer:(\d+)\}/g, (_, n: string) => run.answers[Number(n) - 1] ?? "")
    .replace(/\{answer\}/g, run.answers.at(-1) ?? "")
    .replace(/\{input\}/g, typeof run.input === "string" ? run.input : JSON.stringify(run.input));
}
