import type { Delivery } from "../delivery.ts";
import type { EventFeed } from "../events/feed.ts";
import type { FeedEventData } from "../events/types.ts";
import type { Address, InboundAction, InboundEvent, InboundMessage } from "../model.ts";
import type { Store } from "../store/port.ts";
import { decodeAction, type ActionValue } from "./actions.ts";
import { waitCall } from "./journal-call.ts";
import { matchChoice } from "../port/choices.ts";
import type { TaskRunner } from "./runner.ts";
import type { PendingWait, Task } from "../store/records.ts";
import type { ReviewVerdict } from "./workflow.ts";

const SKIP_WORDS = new Set(["skip", "-", "no", "none"]);

/** What someone hears who may not act on a task. */
export const REFUSAL = "Sorry, only the person who started this task, or a reviewer, can answer or cancel it.";

/**
 * Turns people's answers into resumed tasks: button presses and free-text replies to
 * questions and reviews. Each answer is accepted once (a conditional update on the task's
 * rev), and only from someone who may act on the task (see `mayAct`). Refusals and notes
 * about a pressed button go to the person who pressed it only (the adapter's private notice).
 */
export class Answers {
  readonly #store: Store;
  readonly #delivery: Delivery;
  readonly #runner: TaskRunner;
  readonly #reviewers: ReadonlySet<string>;
  readonly #events: EventFeed | undefined;

  constructor(store: Store, delivery: Delivery, runner: TaskRunner, reviewers: Iterable<string>, events?: EventFeed) {
    this.#store = store;
    this.#delivery = delivery;
    this.#runner = runner;
    this.#reviewers = new Set(reviewers);
    this.#events = events;
  }

  /**
   * Whether `address.user` may answer, review or cancel `task`: the person who started it (for
   * a schedule's task, the schedule's maker), a configured reviewer, or, in a direct chat with
   * the bot, the chat's user. In groups, channels and threads nobody else may, whoever spoke first.
   */
  mayAct(task: Task, address: Address): boolean {
    if (address.user === task.owner || this.isReviewer(address)) return true;
    return address.direct === true && address.platform === task.address.platform && address.channel === task.address.channel;
  }

  /** Whether the user is listed in `reviewers` as `platform:userId`. */
  isReviewer(address: Address): boolean {
    return this.#reviewers.has(`${address.platform}:${address.user}`);
  }

  /** Tells the person behind `event`, and only them, that the task is not theirs to act on. */
  async refuse(event: InboundEvent): Promise<void> {
    await this.#delivery.notice(event, REFUSAL, { alert: true });
  }

  /** A button press (or form submission) on a question or review. */
  async handleAction(event: InboundAction, eventKey: string): Promise<void> {
    const decoded = decodeAction(event.actionId);
    const task = decoded ? await this.#store.getTask(decoded.taskId) : undefined;
    if (!decoded || !task) {
      await this.#delivery.notice(event, "This question has expired: its task no longer exists.");
      return;
    }
    if (task.lastAnswerEvent === eventKey) return; // re-delivered after a crash: already applied
    if (!this.mayAct(task, event.address)) return this.refuse(event);
    const wait = task.waiting;
    if (task.status !== "waiting" || !wait || wait.token !== decoded.token) {
      if (decoded.value.type === "cancel" && !["completed", "failed", "cancelled"].includes(task.status)) {
        await this.#cancel(task, event.address);
        return;
      }
      await this.#delivery.notice(event, "That question was already answered.");
      return;
    }
    await this.#applyAction(task, wait, decoded.value, event, eventKey);
  }

  async #applyAction(task: Task, wait: PendingWait, value: ActionValue, event: InboundAction, eventKey: string): Promise<void> {
    switch (value.type) {
      case "cancel":
        return this.#cancel(task, event.address);
      case "choice": {
        const choice = wait.choices?.[value.index];
        if (wait.kind !== "ask" || choice === undefined) return this.#delivery.notice(event, "That choice is not one of the options.");
        return this.#accept(task, wait, choice, event, eventKey);
      }
      case "approve":
        return this.#acceptReview(task, wait, { approved: true, ...(event.feedback ? { feedback: event.feedback } : {}) }, event, eventKey);
      case "reject":
        return this.#acceptReview(task, wait, { approved: false, ...(event.feedback ? { feedback: event.feedback } : {}) }, event, eventKey);
      case "edit":
        if (wait.kind !== "review") return this.#delivery.notice(event, "There is nothing to edit here.");
        if (event.text) return this.#acceptReview(task, wait, { approved: true, edited: event.text, ...(event.feedback ? { feedback: event.feedback } : {}) }, event, eventKey);
        // No form on this platform: ask for the corrected text as the next message.
        if (!(await this.#setPhase(task, { ...wait, phase: "edit-text" }, eventKey))) return this.#delivery.notice(event, "That question was already answered.");
        this.#askText(task, "Send the corrected text as your next message.");
        return;
    }
  }

  /**
   * A plain message in a session whose active task waits. Returns false when the text
   * is not an answer: a text that is none of a question's choices, or a message while a
   * review waits for its buttons, is a new request (queued behind the task; see `waitingHint`).
   */
  async handleText(task: Task, event: InboundMessage, eventKey: string): Promise<boolean> {
    const wait = task.waiting;
    const { address, text } = event;
    if (task.status !== "waiting" || !wait) return false;
    if (!this.mayAct(task, address)) {
      await this.refuse(event);
      return true;
    }
    if (wait.kind === "ask") {
      if (!wait.choices) return this.#accept(task, wait, text, event, eventKey).then(() => true);
      const choice = matchChoice(wait.choices, text);
      if (choice !== undefined) return this.#accept(task, wait, choice, event, eventKey).then(() => true);
      return false;
    }
    switch (wait.phase ?? "verdict") {
      case "edit-text":
        if (!(await this.#setPhase(task, { ...wait, phase: "feedback", edited: text, approved: true }, eventKey))) return true;
        this.#askText(task, "Thanks. Any feedback for the workflow? Send it, or send `skip`.");
        return true;
      case "feedback": {
        const feedback = SKIP_WORDS.has(text.trim().toLowerCase()) ? undefined : text;
        await this.#acceptReview(task, wait, { approved: wait.approved ?? true, ...(wait.edited !== undefined ? { edited: wait.edited } : {}), ...(feedback ? { feedback } : {}) }, event, eventKey);
        return true;
      }
      default:
        return false;
    }
  }

  /** What the person is told when a message of theirs queues behind a task that waits for them. */
  static waitingHint(task: Task): string {
    const wait = task.waiting;
    if (!wait) return "";
    if (wait.kind === "ask" && wait.choices) return ` The current task is waiting for your answer above: pick one of ${wait.choices.join(", ")} (or send /cancel).`;
    if (wait.kind === "review") return " The current task is waiting for your review above: Approve, Reject or Edit (or send /cancel).";
    return "";
  }

  async #acceptReview(task: Task, wait: PendingWait, verdict: ReviewVerdict, event: InboundEvent, eventKey: string): Promise<void> {
    if (wait.kind !== "review") return this.#delivery.notice(event, "That button does not belong to a review.");
    await this.#accept(task, wait, verdict, event, eventKey);
  }

  /** The once-only `waiting → queued` transition carrying the answer. */
  async #accept(task: Task, wait: PendingWait, value: unknown, event: InboundEvent, eventKey: string): Promise<void> {
    // A typed answer is in the history already (as the person's message); a pressed button is not.
    const accepted = await this.accept(task, wait, value, eventKey, event.address.user, { inHistory: event.kind !== "message" });
    if (!accepted) await this.#delivery.notice(event, "That question was already answered.");
  }

  /**
   * Accepts `value` as the answer to `wait` once (a conditional `waiting → queued` update) and
   * resumes the task; undefined when something else answered first. For callers that checked
   * `mayAct` and the answer's shape themselves (the HTTP API). `by`: who answered (for the `answered` event).
   */
  async accept(task: Task, wait: PendingWait, value: unknown, eventKey: string, by?: string, options: { inHistory?: boolean } = {}): Promise<Task | undefined> {
    const accepted = await this.#store.updateTask(
      task.id,
      // The answer keeps which question it answers, so the replay can tell if the code now asks another.
      {
        status: "queued",
        waiting: undefined,
        // A pressed answer enters the history as the person's message when the task takes it, before anything it leads to.
        answer: { key: wait.key, value, call: waitCall(wait), ...((options.inHistory ?? true) ? { said: { text: answerText(wait, value), eventKey, ...(by ? { by } : {}) } } : {}) },
        lastAnswerEvent: eventKey,
      },
      { ifRev: task.rev },
    );
    if (!accepted) return undefined;
    void this.#events?.publish({ type: "answered", sessionId: task.sessionId, taskId: task.id, data: answeredData(wait, value, by) });
    // Cosmetic, so not waited for: the update loop goes on while the question is edited.
    void this.#acknowledge(accepted, wait, value);
    this.#runner.resume(task.id);
    return accepted;
  }

  /** A follow-up of a review (its phase is stored): asks for typed text, and publishes the question. */
  #askText(task: Task, text: string): void {
    void this.#events?.publish({ type: "question", sessionId: task.sessionId, taskId: task.id, data: { question: text, expectsText: true } });
    this.#delivery.post(task.address, { kind: "question", taskId: task.id, text, expectsText: true });
  }

  async #setPhase(task: Task, wait: PendingWait, eventKey: string): Promise<boolean> {
    return (await this.#store.updateTask(task.id, { waiting: wait, lastAnswerEvent: eventKey }, { ifRev: task.rev })) !== undefined;
  }

  /** Where messages stay visible, marks the question as answered (buttons removed). */
  async #acknowledge(task: Task, wait: PendingWait, value: unknown): Promise<void> {
    if (!this.#delivery.capabilities(task.address.platform).persistentMessages) return;
    // A very quick answer can arrive while the question's post is still being recorded.
    await this.#runner.questionPosted(task.id);
    const posted = (await this.#store.getOutbox(task.id)).get(`${wait.key}:${wait.token}`);
    if (!posted) return;
    const shown = typeof value === "string" ? value : describeVerdict(value as ReviewVerdict);
    try {
      await this.#delivery.edit(task.address, posted.messageId, { kind: "notice", taskId: task.id, text: `${wait.question}\n→ ${shown}` });
    } catch {
      // Cosmetic only: the answer is already accepted.
    }
  }

  async #cancel(task: Task, address: Address): Promise<void> {
    const ended = await this.#runner.cancel(task.id, address.user);
    await this.#reply(address, ended?.status === "cancelled" ? "Cancelled." : ended?.cancelRequested ? "Cancelling: the task stops at its next step." : "That task has already finished.");
  }

  async #reply(address: Address, text: string): Promise<void> {
    this.#delivery.post(address, { kind: "reply", text });
  }
}

/** What the `answered` event says about an accepted answer. */
function answeredData(wait: PendingWait, value: unknown, by: string | undefined): FeedEventData["answered"] {
  const who = by !== undefined ? { by } : {};
  if (wait.kind === "ask") return { kind: "ask", ...who, answer: String(value) };
  const verdict = value as ReviewVerdict;
  return { kind: "review", ...who, approved: verdict.approved, ...(verdict.edited !== undefined ? { edited: verdict.edited } : {}), ...(verdict.feedback ? { feedback: verdict.feedback } : {}) };
}

/** An answer as the person's message in the history: the choice or text, or the verdict (with feedback). */
function answerText(wait: PendingWait, value: unknown): string {
  if (wait.kind === "ask") return String(value);
  const verdict = value as ReviewVerdict;
  const said = describeVerdict(verdict);
  return `${said}${verdict.edited !== undefined ? `: ${verdict.edited}` : ""}${verdict.feedback ? ` (${verdict.feedback})` : ""}`;
}

function describeVerdict(verdict: ReviewVerdict): string {
  if (!verdict.approved) return "Rejected";
  return verdict.edited !== undefined ? "Edited and approved" : "Approved";
}
