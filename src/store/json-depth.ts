/**
 * How deeply a JSON value nests, measured without recursion.
 *
 * Why: `JSON.parse` is iterative and accepts values nested thousands of levels deep, but
 * `structuredClone` overflows the call stack at about 4,000 levels and `JSON.stringify` at
 * about 8,000. One such value in a store made every listing that cloned it throw, so the bot
 * could not start. The store refuses to write records nested deeper than
 * `MAX_NESTING_BELOW_RECORD` and sets aside the ones already on disk; an API can use the same
 * helper to bound its input.
 */

/** Levels a stored record may nest below its own top level (the record object is not counted). */
export const MAX_NESTING_BELOW_RECORD = 64;

/**
 * True when `value` nests objects or arrays more than `maxDepth` levels deep: a scalar is
 * depth 0, `{}` and `[]` depth 1, `{"a":[1]}` depth 2. Iterative, so it is safe on exactly the
 * values it exists to catch; it stops at the first path that is too deep, and a cyclic value
 * counts as too deep.
 */
export function jsonDepthExceeds(value: unknown, maxDepth: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (maxDepth < 1) return true;
  const values: object[] = [value];
  const depths: number[] = [1];
  while (values.length > 0) {
    const v = values.pop()!;
    const childDepth = depths.pop()! + 1;
    const children: unknown[] = Array.isArray(v) ? v : Object.values(v);
    for (const child of children) {
      if (typeof child !== "object" || child === null) continue;
      if (childDepth > maxDepth) return true;
      values.push(child);
      depths.push(childDepth);
    }
  }
  return false;
}

/** True when a record (an object stored as one unit: a task, a message, a feed event…) nests deeper than the store keeps. */
export function tooDeepToStore(record: unknown): boolean {
  return jsonDepthExceeds(record, MAX_NESTING_BELOW_RECORD + 1);
}

/** The sentence for a write refused by `tooDeepToStore`. */
export function tooDeepMessage(kind: string, id: string): string {
  return (
    `The ${kind} ${JSON.stringify(id)} was not stored: its data nests more than ${MAX_NESTING_BELOW_RECORD} levels deep, ` +
    `beyond what the store keeps (so that every stored record can be read back). Send less deeply nested data.`
  );
}
