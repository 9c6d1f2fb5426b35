import { createHash } from "node:crypto";

/** Telegram's limit on `callback_data`, in bytes (UTF-8). */
export const CALLBACK_DATA_MAX_BYTES = 64;

/** Marks a short key standing for a longer action id. Ids starting with it are always mapped. */
const KEY_PREFIX = "~";

/**
 * `callback_data` for action ids. The engine's ids (`cf:<taskId>:<token>:<value>`, about 40
 * bytes) go through unchanged. A longer id (or one starting with `~`) becomes `~` + 32
 * characters of its SHA-256, remembered in an in-memory LRU map of `capacity` entries.
 *
 * Limitation: the map is not persisted. A button carrying a mapped id stops working after a
 * restart or once `capacity` newer long ids pushed it out; pressing it then tells the person
 * the button expired. Keep action ids within 64 bytes to avoid this.
 */
export class CallbackData {
  readonly #capacity: number;
  /** Short key → action id, oldest first (a Map keeps insertion order: the LRU order). */
  readonly #long = new Map<string, string>();

  constructor(capacity = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`Expected \`capacity\` to be an integer >= 1, got ${capacity}`);
    this.#capacity = capacity;
  }

  /** The callback_data for an action id: at most 64 bytes. */
  encode(actionId: string): string {
    if (Buffer.byteLength(actionId, "utf8") <= CALLBACK_DATA_MAX_BYTES && !actionId.startsWith(KEY_PREFIX)) return actionId;
    const key = KEY_PREFIX + createHash("sha256").update(actionId).digest("base64url").slice(0, 32);
    this.#long.delete(key);
    this.#long.set(key, actionId);
    if (this.#long.size > this.#capacity) this.#long.delete(this.#long.keys().next().value!);
    return key;
  }

  /** The action id behind callback_data; undefined for a mapped key no longer remembered. */
  decode(data: string): string | undefined {
    if (!data.startsWith(KEY_PREFIX)) return data;
    const id = this.#long.get(data);
    if (id !== undefined) {
      // Pressed: most recently used.
      this.#long.delete(data);
      this.#long.set(data, id);
    }
    return id;
  }
}
