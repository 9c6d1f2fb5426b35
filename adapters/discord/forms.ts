import type { Address } from "../../src/model.ts";
import type { Host } from "../../src/port/index.ts";
import { decodeAction } from "../../src/port/index.ts";

/** What a person sees who submits a form (a review's Edit, a free-text Answer) nobody waits for any more. */
export const FORM_EXPIRED = "This form has expired: the task it belonged to is no longer waiting for it.";

/** How long asking the engine may take: the submission must be answered within Discord's 3 s either way. */
const CHECK_WITHIN_MS = 1000;

/** A submitted form, as far as its check needs it. */
export interface SubmittedForm {
  /** The custom_id of the button that opened it. */
  button: string;
  /**
   * The custom_ids on the form's message as Discord sent it with the submission (its state
   * now); undefined when the submission came without its message.
   */
  messageButtons: readonly string[] | undefined;
  /** The task whose question it answers, where the adapter knows it. */
  taskId?: string;
}

/**
 * Whether a submitted form still has a task waiting for it. A form can be left open while its
 * question is answered (someone pressed Approve), or its task is cancelled or gone; its
 * submission must then be answered, privately, rather than taken as an answer or, for a
 * free-text Answer, as a new request. Two signs, either enough:
 * - the button that opened the form is no longer on its message: the engine takes a question's
 *   buttons off once it is answered (also after a restart: Discord sends the message);
 * - the engine says the form's task no longer waits (cancelled, ended, gone), where the task is
 *   known: an Answer button names it; a review's, this process remembers (the last 1,000).
 * Otherwise the engine decides, as for any answer.
 */
export class FormCheck {
  #host: Host | undefined;

  /** The engine whose tasks the forms belong to (none for an adapter started on its own). */
  open(host: Host | undefined): void {
    this.#host = host;
  }

  async expired(form: SubmittedForm): Promise<boolean> {
    if (form.messageButtons && !form.messageButtons.includes(form.button)) return true;
    const host = this.#host;
    if (!host || form.taskId === undefined) return false;
    // A slow store must not cost the person Discord's "This interaction failed": then the engine decides.
    return (await quickly(host.tasks.get(form.taskId).then((task) => task?.status !== "waiting"))) ?? false;
  }

  /**
   * The draft under review that a review's Edit button (its engine action id) opens, from the
   * engine: for a review this process did not post (another process of several, or before a
   * restart). Undefined when the review no longer waits, the person may not decide it (only
   * its starter and the reviewers see its draft here), or the engine is slow to say.
   */
  async review(actionId: string, by: Address): Promise<{ draft: string; taskId: string } | undefined> {
    const decoded = decodeAction(actionId);
    const host = this.#host;
    if (!decoded || !host) return undefined;
    const task = await quickly(host.tasks.get(decoded.taskId));
    const wait = task?.status === "waiting" ? task.waiting : undefined;
    if (!task || wait?.kind !== "review" || wait.token !== decoded.token || !host.tasks.mayAct(task, by)) return undefined;
    return { draft: wait.data ?? "", taskId: task.id };
  }
}

/** What `work` resolves to within CHECK_WITHIN_MS; undefined when it fails or is later. */
async function quickly<T>(work: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), CHECK_WITHIN_MS)));
  try {
    return await Promise.race([work, late]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** Every custom_id in a message's components (rows, and whatever nests in them), as the API shapes them. */
export function customIdsOf(components: readonly unknown[]): string[] {
  const ids: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== "object") return;
    const record = node as Record<string, unknown>;
    if (typeof record.custom_id === "string") ids.push(record.custom_id);
    walk(record.components);
    walk(record.component);
  };
  walk(components);
  return ids;
}
