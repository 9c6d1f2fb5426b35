import type { Json } from "./protocol.ts";

/**
 * Block Kit limits from Slack's Block Kit reference (docs.slack.dev/reference/block-kit):
 * what Slack refuses with `invalid_blocks` (or truncates). Each problem is a line
 * `path: problem`. Escaping of mrkdwn is the adapter's job, not checked here.
 */

export const LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  messageText: 40_000,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  header: 150,
  buttonText: 75,
  actionId: 255,
  buttonValue: 2000,
  url: 3000,
  blockId: 255,
  actionsElements: 25,
  contextElements: 10,
  label: 2000,
  placeholder: 150,
  inputMaxLength: 3000,
  optionText: 75,
  optionValue: 150,
  selectOptions: 100,
  overflowOptions: 5,
  choiceOptions: 10,
  markdownBlockTotal: 12_000,
  modalTitle: 24,
  privateMetadata: 3000,
  callbackId: 255,
} as const;

const BLOCK_TYPES = new Set(["actions", "context", "context_actions", "divider", "file", "header", "image", "input", "markdown", "rich_text", "section", "video", "table", "call"]);
const INTERACTIVE = new Set([
  "button", "checkboxes", "datepicker", "datetimepicker", "email_text_input", "file_input", "image", "multi_static_select", "multi_external_select",
  "multi_users_select", "multi_conversations_select", "multi_channels_select", "number_input", "overflow", "plain_text_input", "radio_buttons",
  "rich_text_input", "static_select", "external_select", "users_select", "conversations_select", "channels_select", "timepicker", "url_text_input",
  "workflow_button", "feedback_buttons", "icon_button",
]);

type Problems = string[];
const len = (value: unknown): number => (typeof value === "string" ? [...value].length : 0);

/** Problems with a blocks array on a surface (a message: 50 blocks; a modal or Home tab: 100). */
export function checkBlocks(blocks: unknown, surface: "message" | "view", path = "blocks"): Problems {
  const problems: Problems = [];
  if (!Array.isArray(blocks)) return [`${path}: must be an array of blocks`];
  const max = surface === "message" ? LIMITS.messageBlocks : LIMITS.viewBlocks;
  if (blocks.length > max) problems.push(`${path}: ${blocks.length} blocks, over ${max} per ${surface}`);
  const blockIds = new Set<string>();
  let markdown = 0;
  blocks.forEach((block: Json, index) => {
    const at = `${path}[${index}]`;
    if (block === null || typeof block !== "object") return void problems.push(`${at}: not a block object`);
    if (!BLOCK_TYPES.has(String(block.type))) problems.push(`${at}: unknown block type ${JSON.stringify(block.type)}`);
    if (block.block_id !== undefined) {
      const blockId = String(block.block_id);
      if (len(blockId) > LIMITS.blockId) problems.push(`${at}.block_id: over ${LIMITS.blockId} characters`);
      if (blockIds.has(blockId)) problems.push(`${at}.block_id: "${blockId}" is not unique in the ${surface}`);
      blockIds.add(blockId);
    }
    const actionIds = new Set<string>();
    const element = (value: unknown, where: string) => checkElement(value, where, actionIds, problems);
    switch (block.type) {
      case "section":
        if (block.text === undefined && block.fields === undefined) problems.push(`${at}: a section needs text or fields`);
        if (block.text !== undefined) checkText(block.text, `${at}.text`, LIMITS.sectionText, problems);
        if (block.fields !== undefined) {
          if (!Array.isArray(block.fields) || block.fields.length > LIMITS.sectionFields) problems.push(`${at}.fields: at most ${LIMITS.sectionFields} text objects`);
          else block.fields.forEach((field, i) => checkText(field, `${at}.fields[${i}]`, LIMITS.sectionFieldText, problems));
        }
        if (block.accessory !== undefined) element(block.accessory, `${at}.accessory`);
        break;
      case "header":
        checkText(block.text, `${at}.text`, LIMITS.header, problems, "plain_text");
        break;
      case "actions":
        if (!Array.isArray(block.elements) || block.elements.length === 0) problems.push(`${at}.elements: must be a non-empty array`);
        else {
          if (block.elements.length > LIMITS.actionsElements) problems.push(`${at}.elements: ${block.elements.length} elements, over ${LIMITS.actionsElements}`);
          block.elements.forEach((e, i) => element(e, `${at}.elements[${i}]`));
        }
        break;
      case "context":
        if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > LIMITS.contextElements) problems.push(`${at}.elements: 1-${LIMITS.contextElements} elements`);
        else block.elements.forEach((e: Json, i) => (e?.type === "image" ? undefined : checkText(e, `${at}.elements[${i}]`, Infinity, problems)));
        break;
      case "input":
        checkText(block.label, `${at}.label`, LIMITS.label, problems, "plain_text");
        if (block.hint !== undefined) checkText(block.hint, `${at}.hint`, LIMITS.label, problems, "plain_text");
        if (block.element === undefined) problems.push(`${at}.element: required`);
        else element(block.element, `${at}.element`);
        break;
      case "image":
        if (len(block.alt_text) === 0) problems.push(`${at}.alt_text: required`);
        if (len(block.image_url) > LIMITS.url) problems.push(`${at}.image_url: over ${LIMITS.url} characters`);
        break;
      case "markdown":
        if (typeof block.text !== "string" || block.text === "") problems.push(`${at}.text: required`);
        markdown += len(block.text);
        break;
    }
  });
  if (markdown > LIMITS.markdownBlockTotal) problems.push(`${path}: markdown blocks hold ${markdown} characters, over ${LIMITS.markdownBlockTotal} in total`);
  return problems;
}

/** Problems with a modal view object (views.open / views.update / a response_action update). */
export function checkView(view: unknown, path = "view"): Problems {
  if (view === null || typeof view !== "object" || Array.isArray(view)) return [`${path}: must be a view object`];
  const v = view as Json;
  const problems: Problems = [];
  if (v.type !== "modal") problems.push(`${path}.type: must be "modal" (got ${JSON.stringify(v.type)})`);
  checkText(v.title, `${path}.title`, LIMITS.modalTitle, problems, "plain_text");
  for (const key of ["submit", "close"]) if (v[key] !== undefined) checkText(v[key], `${path}.${key}`, LIMITS.modalTitle, problems, "plain_text");
  if (len(v.private_metadata) > LIMITS.privateMetadata) problems.push(`${path}.private_metadata: over ${LIMITS.privateMetadata} characters`);
  if (len(v.callback_id) > LIMITS.callbackId) problems.push(`${path}.callback_id: over ${LIMITS.callbackId} characters`);
  if (len(v.external_id) > LIMITS.callbackId) problems.push(`${path}.external_id: over ${LIMITS.callbackId} characters`);
  problems.push(...checkBlocks(v.blocks, "view", `${path}.blocks`));
  const hasInput = Array.isArray(v.blocks) && v.blocks.some((b: Json) => b?.type === "input");
  if (hasInput && v.submit === undefined) problems.push(`${path}.submit: required when the view has input blocks`);
  return problems;
}

function checkText(value: unknown, path: string, max: number, problems: Problems, only?: "plain_text"): void {
  if (value === null || typeof value !== "object") return void problems.push(`${path}: must be a text object`);
  const text = value as Json;
  if (text.type !== "plain_text" && text.type !== "mrkdwn") problems.push(`${path}.type: must be plain_text or mrkdwn`);
  else if (only && text.type !== only) problems.push(`${path}.type: must be ${only}`);
  if (typeof text.text !== "string" || text.text.length === 0) problems.push(`${path}.text: must be a non-empty string`);
  else if (len(text.text) > max) problems.push(`${path}.text: ${len(text.text)} characters, over ${max}`);
  if (text.emoji !== undefined && text.type !== "plain_text") problems.push(`${path}.emoji: only for plain_text`);
}

function checkElement(value: unknown, path: string, actionIds: Set<string>, problems: Problems): void {
  if (value === null || typeof value !== "object") return void problems.push(`${path}: not an element object`);
  const e = value as Json;
  const type = String(e.type);
  if (!INTERACTIVE.has(type)) return void problems.push(`${path}: unknown element type ${JSON.stringify(e.type)}`);
  if (e.action_id !== undefined) {
    const actionId = String(e.action_id);
    if (len(actionId) > LIMITS.actionId) problems.push(`${path}.action_id: over ${LIMITS.actionId} characters`);
    if (actionIds.has(actionId)) problems.push(`${path}.action_id: "${actionId}" is not unique in its block`);
    actionIds.add(actionId);
  }
  if (e.placeholder !== undefined) checkText(e.placeholder, `${path}.placeholder`, LIMITS.placeholder, problems, "plain_text");
  if (e.confirm !== undefined) checkConfirm(e.confirm, `${path}.confirm`, problems);
  const options = (key: string, max: number) => {
    if (e[key] === undefined) return;
    if (!Array.isArray(e[key]) || e[key].length > max) return void problems.push(`${path}.${key}: at most ${max} options`);
    e[key].forEach((option: Json, i: number) => checkOption(option, `${path}.${key}[${i}]`, problems));
  };
  switch (type) {
    case "button":
      checkText(e.text, `${path}.text`, LIMITS.buttonText, problems, "plain_text");
      if (len(e.value) > LIMITS.buttonValue) problems.push(`${path}.value: ${len(e.value)} characters, over ${LIMITS.buttonValue}`);
      if (len(e.url) > LIMITS.url) problems.push(`${path}.url: over ${LIMITS.url} characters`);
      if (e.style !== undefined && e.style !== "primary" && e.style !== "danger") problems.push(`${path}.style: must be primary or danger`);
      break;
    case "static_select":
    case "multi_static_select":
      options("options", LIMITS.selectOptions);
      break;
    case "overflow":
      options("options", LIMITS.overflowOptions);
      break;
    case "checkboxes":
    case "radio_buttons":
      options("options", LIMITS.choiceOptions);
      break;
    case "plain_text_input": {
      const max = e.max_length;
      if (max !== undefined && (!Number.isInteger(max) || (max as number) < 1 || (max as number) > LIMITS.inputMaxLength)) problems.push(`${path}.max_length: must be 1-${LIMITS.inputMaxLength}`);
      if (e.min_length !== undefined && (!Number.isInteger(e.min_length) || (e.min_length as number) > LIMITS.inputMaxLength)) problems.push(`${path}.min_length: must be 0-${LIMITS.inputMaxLength}`);
      const limit = typeof max === "number" ? Math.min(max, LIMITS.inputMaxLength) : LIMITS.inputMaxLength;
      if (len(e.initial_value) > limit) problems.push(`${path}.initial_value: ${len(e.initial_value)} characters, over max_length ${limit}`);
      break;
    }
  }
}

function checkOption(option: Json, path: string, problems: Problems): void {
  checkText(option?.text, `${path}.text`, LIMITS.optionText, problems);
  if (typeof option?.value !== "string" || len(option.value) > LIMITS.optionValue) problems.push(`${path}.value: a string of at most ${LIMITS.optionValue} characters`);
}

function checkConfirm(confirm: unknown, path: string, problems: Problems): void {
  const c = (confirm ?? {}) as Json;
  checkText(c.title, `${path}.title`, 100, problems, "plain_text");
  checkText(c.text, `${path}.text`, 300, problems);
  checkText(c.confirm, `${path}.confirm`, 30, problems, "plain_text");
  checkText(c.deny, `${path}.deny`, 30, problems, "plain_text");
}

const shortId = (): string => Math.random().toString(36).slice(2, 7);

/** plain_text objects as Slack stores them: `emoji: true` unless given. */
function withEmoji(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withEmoji);
  if (value === null || typeof value !== "object") return value;
  const copy = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withEmoji(v)]));
  return copy.type === "plain_text" && typeof copy.text === "string" && copy.emoji === undefined ? { ...copy, emoji: true } : copy;
}

/**
 * Blocks as Slack stores and returns them: a `block_id` filled in where a block lacks one and an
 * `action_id` where an interactive element lacks one (random short strings, as Slack's are), and
 * plain_text objects with `emoji: true`.
 */
export function normalizeBlocks(blocks: Json[]): Json[] {
  const element = (e: unknown): unknown => (e !== null && typeof e === "object" && INTERACTIVE.has(String((e as Json).type)) && (e as Json).action_id === undefined ? { ...(e as Json), action_id: shortId() } : e);
  return (withEmoji(blocks) as Json[]).map((block) => {
    const copy: Json = { ...block, block_id: block.block_id ?? shortId() };
    if (Array.isArray(copy.elements) && copy.type === "actions") copy.elements = copy.elements.map(element);
    if (copy.accessory !== undefined) copy.accessory = element(copy.accessory);
    if (copy.element !== undefined) copy.element = element(copy.element);
    return copy;
  });
}
