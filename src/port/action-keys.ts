import { createHash } from "node:crypto";

/** Marks a short key standing for a longer action id. Ids starting with it are always mapped. */
const KEY_PREFIX = "~";

/**
 * Button payloads for action ids, for platforms that limit them (Telegram's 64-byte
 * `callback_data`, Slack's 2,000-character button `value`). An id that `fits` goes through
 * unchanged (the engine's ids, about 40 bytes, always do); a longer one (or one starting with
 * `~`) becomes `~` + 32 characters of its SHA-256, remembered in an in-memory LRU of
 * `capacity` entries.
 *
 * Limitation: the map is not persisted. A button carrying a mapped id stops working after a
 * restart or once `capacity` newer long ids pushed it out; its press then gets `undefined`
 * from `decode`, and the adapter tells the person the button expired.
 */
export class ActionKeys {
  readonly #fits: (actionId: string) => boolean;
  readonly #capacity: number;
  /** Short key → action id, oldest first (a Map keeps insertion order: the LRU order). */
  readonly #long = new Map<string, string>();

  constructor(fits: (actionId: string) => boolean, capacity = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`Expected \`capacity\` to be an integer >= 1, got ${capacity}`);
    this.#fits = fits;
    this.#capacity = capacity;
  }

  /** The payload for an action id. */
  encode(actionId: string): string {
    if (this.#fits(actionId) && !actionId.startsWith(KEY_PREFIX)) return actionId;
    const key = KEY_PREFIX + createHash("sha256").update(actionId).digest("base64url").slice(0, 32);
    this.#long.delete(key);
    this.#long.set(key, actionId);
    if (this.#long.size > this.#capacity) this.#long.delete(this.#long.keys().next().value!);
    return key;
  }

  /** The action id behind a payload; undefined for a mapped key no longer remembered. */
  decode(payload: string): string | undefined {
    if (!payload.startsWith(KEY_PREFIX)) return payload;
    const id = this.#long.get(payload);
    if (id !== undefined) {
      // Pressed: most recently used.
      this.#long.delete(payload);
      this.#long.set(payload, id);
    }
    return id;
  }
}
