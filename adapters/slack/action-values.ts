import { ActionKeys } from "../../src/port/index.ts";

/** Slack's limit on a button's `value`, in characters. */
export const VALUE_MAX = 2000;

/**
 * Button values for action ids: the engine's ids go through unchanged; one over Slack's
 * 2,000 characters becomes a short key remembered in memory (see ActionKeys).
 */
export class ActionValues extends ActionKeys {
  constructor(capacity = 10_000) {
    super((actionId) => actionId.length <= VALUE_MAX, capacity);
  }
}
