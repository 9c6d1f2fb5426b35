import { ActionKeys } from "../../src/port/index.ts";

/** Telegram's limit on `callback_data`, in bytes (UTF-8). */
export const CALLBACK_DATA_MAX_BYTES = 64;

/**
 * `callback_data` for action ids: the engine's ids (`cf:<taskId>:<token>:<value>`, about 40
 * bytes) go through unchanged; a longer id becomes a short key remembered in memory (see
 * ActionKeys: such a button stops working after a restart, and a press says it expired).
 */
export class CallbackData extends ActionKeys {
  constructor(capacity = 10_000) {
    super((actionId) => Buffer.byteLength(actionId, "utf8") <= CALLBACK_DATA_MAX_BYTES, capacity);
  }
}
