/**
 * Generated request bodies for the fuzz test: valid ones, valid ones with a field replaced
 * or added or taken away, and hostile ones (thousands of levels deep, strings near the body
 * limit, wrong types, 1e309, duplicate and `__proto__` keys, lone surrogates, invalid UTF-8).
 * Everything is drawn from a seeded PRNG, so a seed reproduces a run.
 */

/** mulberry32: small, fast and good enough to vary test input; the same seed gives the same sequence. */
export function prng(seed: number) {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (below: number): number => Math.floor(next() * below);
  return { next, int, pick: <T>(items: readonly T[]): T => items[int(items.length)]!, chance: (p: number): boolean => next() < p };
}
export type Prng = ReturnType<typeof prng>;

const STRINGS = ["", " ", "owls", "a short summary of owls", "é", "😀", "\u202eevil", "\u200b", "\u0000", "a\nb\r\n", "<script>alert(1)</script>", "%s%n%x", "../../etc/passwd", "${7*7}", "/help", "/cancel", "/status", "/schedule list", "/new", "1", "2", "0", "-1", "true", "null", "Short summary", "detailed report", "0 9 * * *", "* * * * *", "99 * * * *", "Europe/Berlin", "Mars/Olympus", "demo", "assistant", "closed", "skip"];
const NUMBERS = ["0", "-0", "1", "-1", "2", "3", "1.5", "0.1", "1e309", "-1e309", "1e-400", "9007199254740993", "123456789012345678901234567890", "-9e999"];
/** Raw JSON string literals the encoder would never write: lone surrogates, escaped NUL, odd escapes. */
const RAW_STRINGS = ['"\\ud800"', '"\\udfff x"', '"\\u0000"', '"a\\/b"', '"\\ud83d\\ude00"', '"\\uFFFF"', '"\\"\\\\"'];
const KEYS = ["text", "topic", "state", "workflow", "input", "sessionId", "choice", "approved", "edited", "feedback", "cron", "timezone", "prompt", "withHistory", "missedPolicy", "question", "__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "", "é", "a.b", "0"];

export interface Limits {
  /** The server's bodyLimitBytes: huge strings are drawn around it. */
  bodyLimitBytes: number;
}

/** A random JSON value, as text (so it can hold what JSON.stringify can't write). */
export function jsonValue(r: Prng, limits: Limits, depth = 0): string {
  const kind = r.int(depth > 2 ? 7 : 12);
  switch (kind) {
    case 0:
      return "null";
    case 1:
      return r.pick(["true", "false"]);
    case 2:
      return r.pick(NUMBERS);
    case 3:
      return JSON.stringify(r.pick(STRINGS));
    case 4:
      return r.pick(RAW_STRINGS);
    case 5:
      return JSON.stringify(randomUnicode(r, 1 + r.int(40)));
    case 6:
      return JSON.stringify(String(r.next() * 1e6));
    case 7:
      return nested(r);
    case 8:
      return JSON.stringify("x".repeat(Math.max(0, limits.bodyLimitBytes - 120 + r.int(240))));
    case 9:
      return `[${Array.from({ length: r.int(5) }, () => jsonValue(r, limits, depth + 1)).join(",")}]`;
    case 10:
      return jsonObject(r, limits, depth + 1);
    default:
      return `[${new Array(1 + r.int(20_000)).fill(r.pick(["1", "null", '""', "{}"])).join(",")}]`;
  }
}

/** An object with random keys, some dangerous, some repeated. */
function jsonObject(r: Prng, limits: Limits, depth: number): string {
  const entries = Array.from({ length: r.int(6) }, () => `${JSON.stringify(r.pick(KEYS))}:${jsonValue(r, limits, depth)}`);
  if (entries.length > 0 && r.chance(0.3)) entries.push(entries[0]!);
  return `{${entries.join(",")}}`;
}

/** Arrays or objects nested from a few to thousands of levels, around the limit of 32 often. */
function nested(r: Prng): string {
  const levels = r.pick([1, 2, 31, 32, 33, 34, 100, 1000, 4000, 4110, 20_000]);
  if (r.chance(0.5)) return `${"[".repeat(levels)}${r.chance(0.5) ? "1" : ""}${"]".repeat(levels)}`;
  return `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;
}

function randomUnicode(r: Prng, length: number): string {
  let text = "";
  for (let i = 0; i < length; i++) {
    const range = r.pick([
      [0x20, 0x7e],
      [0xa0, 0x2ff],
      [0x590, 0x6ff],
      [0x4e00, 0x4fff],
      [0x1f300, 0x1f64f],
      [0x200b, 0x202e],
    ] as const);
    text += String.fromCodePoint(range[0] + r.int(range[1] - range[0] + 1));
  }
  return text;
}

/** A route's valid body: each field's valid value as JSON text. */
export type Template = Record<string, () => string>;

/** A body for a route: bytes, and the Content-Type to send it with (undefined: none). */
export interface FuzzBody {
  bytes: Buffer;
  contentType: string | undefined;
  /** What was done, for the failure report. */
  how: string;
}

const objectOf = (fields: Array<[string, string]>) => `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`;

/** One generated body for a route with this template. */
export function fuzzBody(r: Prng, template: Template, limits: Limits): FuzzBody {
  const fields: Array<[string, string]> = Object.entries(template).map(([key, make]) => [key, make()]);
  let text: string;
  let how: string;
  const strategy = r.int(10);
  if (strategy <= 3 && fields.length > 0) {
    const at = r.int(fields.length);
    fields[at] = [fields[at]![0], jsonValue(r, limits)];
    text = objectOf(fields);
    how = `field ${fields[at]![0]} replaced`;
  } else if (strategy === 4) {
    fields.push([r.pick(KEYS), jsonValue(r, limits)]);
    text = objectOf(fields);
    how = "field added";
  } else if (strategy === 5 && fields.length > 0) {
    fields.splice(r.int(fields.length), 1);
    text = objectOf(fields);
    how = "field removed";
  } else if (strategy === 6) {
    text = jsonValue(r, limits);
    how = "the body is one value";
  } else if (strategy === 7) {
    return corrupt(r, objectOf(fields));
  } else if (strategy === 8 && fields.length > 0) {
    // The same key twice: JSON.parse keeps the last.
    const [key, value] = fields[r.int(fields.length)]!;
    text = `${objectOf(fields).slice(0, -1)}${fields.length > 0 ? "," : ""}${JSON.stringify(key)}:${jsonValue(r, limits)},${JSON.stringify(key)}:${value}}`;
    how = "duplicate key";
  } else {
    text = objectOf(fields);
    how = "valid";
  }
  const contentType = r.chance(0.9) ? r.pick(["application/json", "application/json; charset=utf-8"]) : r.pick(["text/plain", "application/x-www-form-urlencoded", undefined]);
  return { bytes: Buffer.from(text, "utf8"), contentType, how: `${how}${contentType === undefined || !contentType.includes("json") ? ` (${contentType ?? "no content type"})` : ""}` };
}

/** Broken bytes: truncated JSON, invalid UTF-8 inside a string, a stray byte, trailing garbage. */
function corrupt(r: Prng, text: string): FuzzBody {
  const bytes = Buffer.from(text, "utf8");
  const kind = r.int(5);
  const invalid = Buffer.from(r.pick([[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xe2, 0x82]]));
  let out: Buffer;
  if (kind === 0) out = bytes.subarray(0, r.int(bytes.length));
  else if (kind === 1) {
    // Inside the first string value.
    const quote = bytes.indexOf(0x22, bytes.indexOf(0x3a)) + 1 || 1;
    out = Buffer.concat([bytes.subarray(0, quote), invalid, bytes.subarray(quote)]);
  } else if (kind === 2) out = Buffer.concat([invalid, bytes]);
  else if (kind === 3) out = Buffer.concat([bytes, Buffer.from(r.pick(["x", "}", "]", ",{}", "\u0000", " //"]))]);
  else out = Buffer.from(r.pick(["", "nul", "{", "}", "[1,]", "{'a':1}", "NaN", "Infinity", "undefined", "{\"a\":1,}", "\ufeff{}"]), "utf8");
  return { bytes: out, contentType: "application/json", how: `corrupt bytes (${kind})` };
}
