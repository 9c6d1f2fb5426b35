import { randomBytes } from "node:crypto";

/** A url-safe random id, e.g. for sessions, tasks and messages. */
export function newId(bytes = 12): string {
  return randomBytes(bytes).toString("base64url");
}
