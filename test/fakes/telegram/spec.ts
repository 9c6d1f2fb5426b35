import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseTelegramHtml } from "./html.ts";

/**
 * Validates Bot API calls against the official method and type tables
 * (PaulSonOfLars/telegram-bot-api-spec, Bot API 10.1), vendored trimmed in ./spec (see its README):
 * required fields present, no unknown fields, value types (Integer, String, Boolean, Float,
 * arrays, objects, unions, abstract types by their subtypes), plus the documented limits a
 * type table can't express: callback_data ≤ 64 bytes, text 1-4096 characters after
 * entity parsing (HTML checked as Telegram parses it), command names, secret_token shape.
 */

interface Field {
  name: string;
  types: string[];
  required: boolean;
}
interface Entry {
  name: string;
  fields?: Field[];
  subtypes?: string[];
}
interface Spec {
  version: string;
  /** The methods the fake serves, with their fields. */
  methods: Record<string, Entry>;
  /** Every other method of the Bot API, by name only (the full spec has no `otherMethods`). */
  otherMethods?: string[];
  types: Record<string, Entry>;
}

/**
 * The spec's location: TELEGRAM_API_SPEC (e.g. a full upstream api.json), else the trimmed
 * copy vendored beside this file.
 */
export const SPEC_FILE = process.env.TELEGRAM_API_SPEC ?? fileURLToPath(new URL("./spec/telegram-api.trimmed.json", import.meta.url));

let cached: Spec | undefined;
function loadSpec(): Spec {
  cached ??= JSON.parse(readFileSync(SPEC_FILE, "utf8")) as Spec;
  return cached;
}

const CHAT_ACTIONS = new Set(["typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice", "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note"]);
const PARSE_MODES = new Set(["HTML", "MarkdownV2", "Markdown"]);

export class SpecValidator {
  readonly #spec = loadSpec();

  get version(): string {
    return this.#spec.version;
  }

  hasMethod(method: string): boolean {
    return method in this.#spec.methods || (this.#spec.otherMethods?.includes(method) ?? false);
  }

  /** Every problem with one call's parameters, as `method: path: problem` lines. */
  validateCall(method: string, params: Record<string, unknown>): string[] {
    const entry = this.#spec.methods[method];
    if (!entry) return this.hasMethod(method) ? [] : [`${method}: no such method in ${this.#spec.version}`];
    const errors: string[] = [];
    this.#fields(entry, params, method, errors);
    this.#limits(method, params, errors);
    return errors;
  }

  /** Problems with a value of a spec type, e.g. an Update the fake is about to deliver. */
  validateType(typeName: string, value: unknown, path = typeName): string[] {
    const errors: string[] = [];
    this.#value(value, [typeName], path, errors);
    return errors;
  }

  #fields(entry: Entry, object: Record<string, unknown>, path: string, errors: string[]): void {
    const fields = entry.fields ?? [];
    for (const key of Object.keys(object)) {
      if (object[key] === undefined) continue;
      if (!fields.some((f) => f.name === key)) errors.push(`${path}: unknown field "${key}"`);
    }
    for (const field of fields) {
      const value = object[field.name];
      if (value === undefined) {
        if (field.required) errors.push(`${path}: required field "${field.name}" is missing`);
        continue;
      }
      this.#value(value, field.types, `${path}.${field.name}`, errors);
    }
  }

  #value(value: unknown, types: readonly string[], path: string, errors: string[]): void {
    if (types.length > 1) {
      const attempts = types.map((type) => {
        const found: string[] = [];
        this.#value(value, [type], path, found);
        return found;
      });
      if (attempts.some((found) => found.length === 0)) return;
      errors.push(`${path}: matches none of ${types.join(" | ")} (${attempts.map((a) => a[0]).join("; ")})`);
      return;
    }
    const type = types[0]!;
    if (type.startsWith("Array of ")) {
      if (!Array.isArray(value)) return void errors.push(`${path}: expected ${type}, got ${describe(value)}`);
      value.forEach((item, index) => this.#value(item, [type.slice("Array of ".length)], `${path}[${index}]`, errors));
      return;
    }
    switch (type) {
      case "Integer":
        if (!Number.isInteger(value)) errors.push(`${path}: expected Integer, got ${describe(value)}`);
        return;
      case "Float":
        if (typeof value !== "number" || !Number.isFinite(value)) errors.push(`${path}: expected Float, got ${describe(value)}`);
        return;
      case "String":
        if (typeof value !== "string") errors.push(`${path}: expected String, got ${describe(value)}`);
        return;
      case "Boolean":
        if (typeof value !== "boolean") errors.push(`${path}: expected Boolean, got ${describe(value)}`);
        return;
      case "InputFile":
        return;
    }
    const entry = this.#spec.types[type];
    if (!entry) return void errors.push(`${path}: unknown type ${type} in the spec`);
    if (entry.subtypes) return this.#value(value, entry.subtypes, path, errors);
    if (value === null || typeof value !== "object" || Array.isArray(value)) return void errors.push(`${path}: expected ${type} (an object), got ${describe(value)}`);
    this.#fields(entry, value as Record<string, unknown>, path, errors);
    if (type === "InlineKeyboardButton") checkButton(value as Record<string, unknown>, path, errors);
  }

  #limits(method: string, params: Record<string, unknown>, errors: string[]): void {
    const at = (field: string) => `${method}.${field}`;
    if (method === "sendMessage" || method === "editMessageText") {
      if (method === "editMessageText") {
        const byChat = params.chat_id !== undefined && params.message_id !== undefined;
        if (!byChat && params.inline_message_id === undefined) errors.push(`${method}: needs chat_id and message_id, or inline_message_id`);
        if (params.text === undefined && params.rich_message === undefined) errors.push(`${method}: needs text (or rich_message)`);
      }
      if (params.parse_mode !== undefined && !PARSE_MODES.has(String(params.parse_mode))) errors.push(`${at("parse_mode")}: unknown parse mode ${JSON.stringify(params.parse_mode)}`);
      if (typeof params.text === "string") {
        const visible = visibleText(params.text, params.parse_mode);
        if (!visible.ok) errors.push(`${at("text")}: can't parse entities: ${visible.error}`);
        else if (visible.text.trim().length === 0) errors.push(`${at("text")}: message text is empty`);
        else if (visible.text.length > 4096) errors.push(`${at("text")}: ${visible.text.length} characters after entity parsing, over 4096`);
      }
    }
    if (method === "sendChatAction" && !CHAT_ACTIONS.has(String(params.action))) errors.push(`${at("action")}: unknown action ${JSON.stringify(params.action)}`);
    if (method === "answerCallbackQuery" && typeof params.text === "string" && params.text.length > 200) errors.push(`${at("text")}: over 200 characters`);
    if (method === "setMyCommands" && Array.isArray(params.commands)) {
      if (params.commands.length > 100) errors.push(`${at("commands")}: more than 100 commands`);
      params.commands.forEach((c: { command?: unknown; description?: unknown }, index) => {
        if (typeof c.command !== "string" || !/^[a-z0-9_]{1,32}$/.test(c.command)) errors.push(`${at("commands")}[${index}].command: ${JSON.stringify(c.command)} is not 1-32 of a-z, 0-9, _`);
        if (typeof c.description !== "string" || c.description.length < 1 || c.description.length > 256) errors.push(`${at("commands")}[${index}].description: must be 1-256 characters`);
      });
    }
    if (method === "setWebhook" && params.secret_token !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(String(params.secret_token))) errors.push(`${at("secret_token")}: must be 1-256 of A-Z, a-z, 0-9, _, -`);
    if (method === "getUpdates" && typeof params.limit === "number" && (params.limit < 1 || params.limit > 100)) errors.push(`${at("limit")}: must be 1-100`);
    if ((method === "getUpdates" || method === "setWebhook") && Array.isArray(params.allowed_updates)) {
      const kinds = (this.#spec.types.Update?.fields ?? []).map((f) => f.name);
      for (const kind of params.allowed_updates) if (!kinds.includes(String(kind))) errors.push(`${at("allowed_updates")}: unknown update type ${JSON.stringify(kind)}`);
    }
  }
}

/** The text as Telegram stores it after parsing; HTML is checked, other modes taken as is. */
export function visibleText(text: string, parseMode: unknown): { ok: true; text: string } | { ok: false; error: string } {
  return parseMode === "HTML" ? parseTelegramHtml(text) : { ok: true, text };
}

function checkButton(button: Record<string, unknown>, path: string, errors: string[]): void {
  if (typeof button.text === "string" && button.text.trim() === "") errors.push(`${path}.text: button text is empty`);
  const kinds = ["url", "callback_data", "web_app", "login_url", "switch_inline_query", "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text", "callback_game", "pay"].filter((k) => button[k] !== undefined);
  if (kinds.length !== 1) errors.push(`${path}: exactly one button kind must be set, got ${kinds.join(", ") || "none"}`);
  if (typeof button.callback_data === "string") {
    const bytes = Buffer.byteLength(button.callback_data, "utf8");
    if (bytes < 1 || bytes > 64) errors.push(`${path}.callback_data: ${bytes} bytes, must be 1-64`);
  }
  if (button.style !== undefined && !["danger", "success", "primary"].includes(String(button.style))) errors.push(`${path}.style: must be danger, success or primary`);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? `the string ${JSON.stringify(value.slice(0, 40))}` : typeof value;
}
