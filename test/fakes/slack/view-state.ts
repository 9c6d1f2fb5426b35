import type { FakeView, Json } from "./protocol.ts";

/**
 * `view.state.values` of a submitted modal, as Slack builds it: block_id → action_id →
 * `{type, ...value}` for every input block, the value's key depending on the element type.
 */

const SINGLE: Record<string, string> = {
  static_select: "selected_option",
  external_select: "selected_option",
  radio_buttons: "selected_option",
  users_select: "selected_user",
  conversations_select: "selected_conversation",
  channels_select: "selected_channel",
  datepicker: "selected_date",
  timepicker: "selected_time",
  datetimepicker: "selected_date_time",
};
const MULTI: Record<string, string> = {
  multi_static_select: "selected_options",
  multi_external_select: "selected_options",
  checkboxes: "selected_options",
  multi_users_select: "selected_users",
  multi_conversations_select: "selected_conversations",
  multi_channels_select: "selected_channels",
};

type Given = string | string[] | null | undefined;

/** Builds state.values from `given` (keyed by block_id or action_id); throws on what Slack's client refuses. */
export function stateValues(view: FakeView, given: Record<string, Given>): Json {
  const inputs = ((view.view.blocks ?? []) as Json[]).filter((b) => b.type === "input");
  const used = new Set<string>();
  const values: Json = {};
  for (const block of inputs) {
    const element = block.element as Json;
    const blockId = String(block.block_id);
    const actionId = String(element.action_id);
    const key = blockId in given ? blockId : actionId in given ? actionId : undefined;
    if (key !== undefined) used.add(key);
    const value = key !== undefined ? given[key] : undefined;
    const empty = value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0);
    if (empty && block.optional !== true) throw new Error(`view ${view.id}: input "${blockId}" is required; Slack's client would not submit without it.`);
    values[blockId] = { [actionId]: { type: element.type, ...elementValue(element, empty ? undefined : value, view.id, blockId) } };
  }
  const unknown = Object.keys(given).filter((key) => !used.has(key));
  if (unknown.length > 0) throw new Error(`view ${view.id} has no input ${unknown.join(", ")}; its inputs are ${inputs.map((b) => `${String(b.block_id)}/${String((b.element as Json).action_id)}`).join(", ") || "none"}.`);
  return values;
}

function elementValue(element: Json, value: Given, viewId: string, blockId: string): Json {
  const type = String(element.type);
  const options = (element.options ?? []) as Json[];
  const option = (v: string): Json => options.find((o) => o.value === v) ?? { text: { type: "plain_text", text: v, emoji: true }, value: v };
  if (type in SINGLE) {
    const key = SINGLE[type]!;
    const single = Array.isArray(value) ? value[0] : value;
    return { [key]: single === undefined || single === null ? null : key === "selected_option" ? option(single) : single };
  }
  if (type in MULTI) {
    const key = MULTI[type]!;
    const list = value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
    return { [key]: key === "selected_options" ? list.map(option) : list };
  }
  const text = Array.isArray(value) ? value.join("\n") : (value ?? null);
  if (typeof text === "string" && type === "plain_text_input") {
    const length = [...text].length;
    if (typeof element.max_length === "number" && length > element.max_length) throw new Error(`view ${viewId}: input "${blockId}" has ${length} characters, over its max_length ${element.max_length}.`);
    if (typeof element.min_length === "number" && length < element.min_length) throw new Error(`view ${viewId}: input "${blockId}" has ${length} characters, under its min_length ${element.min_length}.`);
  }
  return { value: text };
}
