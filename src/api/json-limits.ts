/**
 * Bounds on the JSON the API accepts, in one place. A value nested thousands of levels deep
 * parses (V8's JSON.parse does not recurse) but then breaks whatever walks it recursively:
 * zod, structuredClone, JSON.stringify, a store writing its file; a large free-form value is
 * copied into the store and into every listing. So depth is checked on the raw text, without
 * recursion, before anything parses it, and free-form values (task and schedule input) are
 * bounded in size as well. Both answer 400 naming the field and the limit.
 */
import { z } from "@hono/zod-openapi";

export const JSON_LIMITS = {
  /**
   * How many levels of objects and arrays a field's value may nest (`{"a": [1]}` is 2; a
   * string or number is 0). The body itself is one more level. Enough for any workflow's
   * input; well below where recursive code (zod, structuredClone) runs out of stack.
   */
  maxDepth: 32,
  /**
   * Largest free-form value (task or schedule `input`), in bytes of its JSON text. It is
   * stored with the task or schedule and sent back in every listing of them; the body limit
   * (`bodyLimitBytes`) bounds the request as a whole.
   */
  maxValueBytes: 65_536,
} as const;

/** The limits in a sentence, for the OpenAPI document. */
export const JSON_LIMITS_TEXT = `Request bodies are JSON; a field's value may nest at most ${JSON_LIMITS.maxDepth} levels of objects and arrays, and a free-form value (task or schedule input) may be at most ${JSON_LIMITS.maxValueBytes.toLocaleString("en-US")} bytes as JSON; beyond either the answer is 400 naming the field and the limit.`;

/** What is wrong with a body: the field (a top-level key, or `body`) and a sentence naming the limit. */
export interface JsonLimitProblem {
  field: string;
  message: string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/**
 * How deep a JSON text nests, read in one pass over its characters (no recursion, no
 * parse), checked against `maxDepth` per top-level field. Returns the first field that goes
 * deeper, with how deep it goes, or undefined. Invalid JSON is not judged here (the parser
 * answers that); brackets inside strings are skipped.
 */
export function checkJsonDepth(text: string, maxDepth: number = JSON_LIMITS.maxDepth): JsonLimitProblem | undefined {
  let depth = 0;
  // The body is an object: top-level keys name the fields; otherwise the field is `body`.
  let topIsObject = false;
  let expectKey = false;
  let field = "body";
  let over: { field: string; deepest: number } | undefined;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      const start = i;
      for (i++; i < length; i++) {
        const c = text.charCodeAt(i);
        if (c === BACKSLASH) i++;
        else if (c === QUOTE) break;
      }
      if (depth === 1 && topIsObject && expectKey) {
        field = keyName(text.slice(start, i + 1));
        expectKey = false;
      }
    } else if (code === OPEN_OBJECT || code === OPEN_ARRAY) {
      depth++;
      if (depth === 1) {
        topIsObject = code === OPEN_OBJECT;
        expectKey = topIsObject;
        field = "body";
      }
      const fieldDepth = topIsObject ? depth - 1 : depth;
      if (fieldDepth > maxDepth) {
        if (over === undefined) over = { field, deepest: fieldDepth };
        else over.deepest = Math.max(over.deepest, fieldDepth);
      }
    } else if (code === CLOSE_OBJECT || code === CLOSE_ARRAY) {
      depth--;
      // Past the end of the offending field: its depth is known.
      if (over !== undefined && depth <= (topIsObject ? 1 : 0)) break;
    } else if (code === COMMA) {
      if (depth === 1 && topIsObject) expectKey = true;
    } else if (code === COLON) {
      if (depth === 1 && topIsObject) expectKey = false;
    }
  }
  if (over === undefined) return undefined;
  return { field: over.field, message: `${over.field}: nested ${over.deepest.toLocaleString("en-US")} levels deep; the limit is ${maxDepth}.` };
}

/** A top-level key as the message names it: its text, shortened, or `body` when it can't be read. */
function keyName(quoted: string): string {
  let name: unknown;
  try {
    name = JSON.parse(quoted);
  } catch {
    return "body";
  }
  if (typeof name !== "string" || name === "") return "body";
  const printable = name.replace(/[^\x20-\x7e]/g, "?");
  return printable.length > 40 ? `${printable.slice(0, 40)}…` : printable;
}

/**
 * What is wrong with a parsed free-form value, if anything: nested deeper than `maxDepth`
 * (walked without recursion), a `__proto__` key (harmless in JSON.parse's output, but a
 * prototype change for any code that later copies it with Object.assign or a merge), or
 * over `maxValueBytes` as JSON. `path` is where, below the field.
 */
export function checkFreeJson(value: unknown): { path: Array<string | number>; message: string } | undefined {
  // Each entry knows its parent, so a path is built only for the one that is reported.
  interface Entry { value: unknown; key: string | number | undefined; parent: Entry | undefined; depth: number }
  const pathOf = (entry: Entry | undefined): Array<string | number> => {
    const path: Array<string | number> = [];
    for (let at = entry; at?.key !== undefined; at = at.parent) path.unshift(at.key);
    return path;
  };
  const stack: Entry[] = [{ value, key: undefined, parent: undefined, depth: 0 }];
  while (stack.length > 0) {
    const entry = stack.pop()!;
    const item = entry.value;
    if (item === null || typeof item !== "object") continue;
    if (entry.depth + 1 > JSON_LIMITS.maxDepth) return { path: pathOf(entry), message: `nested deeper than the limit of ${JSON_LIMITS.maxDepth} levels.` };
    if (Array.isArray(item)) {
      item.forEach((child, index) => stack.push({ value: child, key: index, parent: entry, depth: entry.depth + 1 }));
      continue;
    }
    for (const key of Object.keys(item)) {
      if (key === "__proto__") return { path: pathOf(entry), message: "the key __proto__ is not allowed." };
      stack.push({ value: (item as Record<string, unknown>)[key], key, parent: entry, depth: entry.depth + 1 });
    }
  }
  // Depth is bounded now, so JSON.stringify's recursion is safe.
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? "", "utf8");
  if (bytes > JSON_LIMITS.maxValueBytes) {
    return { path: [], message: `${bytes.toLocaleString("en-US")} bytes as JSON; the limit is ${JSON_LIMITS.maxValueBytes.toLocaleString("en-US")}.` };
  }
  return undefined;
}

/**
 * A free-form JSON field (any value), bounded by JSON_LIMITS and described so in the OpenAPI
 * document. Use it instead of `z.unknown()` for anything a client sends.
 */
export function freeJson(description: string) {
  return z
    .unknown()
    .superRefine((value, ctx) => {
      const problem = checkFreeJson(value);
      if (problem) ctx.addIssue({ code: "custom", message: problem.message, path: problem.path });
    })
    .openapi({
      description: `${description} Any JSON value, at most ${JSON_LIMITS.maxDepth} levels deep and ${JSON_LIMITS.maxValueBytes.toLocaleString("en-US")} bytes as JSON; no \`__proto__\` keys.`,
      "x-max-depth": JSON_LIMITS.maxDepth,
      "x-max-bytes": JSON_LIMITS.maxValueBytes,
    });
}
