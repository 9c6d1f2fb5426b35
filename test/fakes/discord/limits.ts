import type { Json } from "./protocol.ts";
import type { Problem } from "./schema.ts";

/**
 * Discord's documented limits that the OpenAPI spec doesn't express (or states looser), from
 * discord.com/developers/docs: message content 2,000 characters (the spec allows 4,000 on
 * channel messages, a Nitro user's limit); at most 5 action rows of at most 5 buttons or one
 * select; custom_ids unique within a message or modal; link and premium buttons; embeds' field
 * lengths and 6,000 characters across a message's embeds; modals of 1 to 5 components;
 * allowed_mentions' exclusive fields; message flags a route takes; application command names,
 * descriptions, options and choices. Lengths count code points.
 */

export const LIMITS = {
  content: 2000,
  actionRows: 5,
  rowButtons: 5,
  embeds: 10,
  embedTitle: 256,
  embedDescription: 4096,
  embedFields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footerText: 2048,
  authorName: 256,
  embedTotal: 6000,
  modalComponents: 5,
  modalTitle: 45,
  textInputMax: 4000,
  commandName: 32,
  commandDescription: 100,
  commandOptions: 25,
  choices: 25,
  commandTotal: 4000,
  globalChatInputCommands: 100,
} as const;

/** Message flags: what a route lets an app set. */
export const FLAGS = { SUPPRESS_EMBEDS: 4, EPHEMERAL: 64, LOADING: 128, SUPPRESS_NOTIFICATIONS: 4096, IS_VOICE_MESSAGE: 8192, IS_COMPONENTS_V2: 32768 } as const;
const SETTABLE: Record<MessageRoute, number> = {
  create: FLAGS.SUPPRESS_EMBEDS | FLAGS.SUPPRESS_NOTIFICATIONS | FLAGS.IS_VOICE_MESSAGE | FLAGS.IS_COMPONENTS_V2,
  reply: FLAGS.SUPPRESS_EMBEDS | FLAGS.EPHEMERAL | FLAGS.SUPPRESS_NOTIFICATIONS | FLAGS.IS_COMPONENTS_V2,
  edit: FLAGS.SUPPRESS_EMBEDS | FLAGS.IS_COMPONENTS_V2,
};

/** `create`: a channel message; `reply`: an interaction response or follow-up; `edit`: any edit. */
export type MessageRoute = "create" | "reply" | "edit";

const len = (value: unknown): number => (typeof value === "string" ? [...value].length : 0);
const over = (path: string, max: number): Problem => ({ path, code: "BASE_TYPE_MAX_LENGTH", message: `Must be ${max} or fewer in length.` });

/** Problems of a message body (content, embeds, components, allowed_mentions, flags) as `route` takes it. */
export function checkMessage(body: Json, route: MessageRoute, prefix = ""): Problem[] {
  const at = (key: string) => (prefix === "" ? key : `${prefix}.${key}`);
  const problems: Problem[] = [];
  if (len(body.content) > LIMITS.content) problems.push(over(at("content"), LIMITS.content));
  if (Array.isArray(body.embeds)) problems.push(...checkEmbeds(body.embeds as Json[], at("embeds")));
  const flags = typeof body.flags === "number" ? body.flags : 0;
  if (Array.isArray(body.components)) problems.push(...checkComponents(body.components as Json[], (flags & FLAGS.IS_COMPONENTS_V2) !== 0, at("components")));
  const mentions = body.allowed_mentions as Json | undefined | null;
  if (mentions && Array.isArray(mentions.parse)) {
    for (const kind of ["users", "roles"]) {
      if (mentions.parse.includes(kind) && Array.isArray(mentions[kind]) && (mentions[kind] as unknown[]).length > 0) {
        problems.push({ path: at("allowed_mentions"), code: "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE", message: `parse:["${kind}"] and ${kind}: [...] are mutually exclusive.` });
      }
    }
  }
  const extra = flags & ~SETTABLE[route] & ~(route === "edit" ? FLAGS.EPHEMERAL | FLAGS.SUPPRESS_NOTIFICATIONS : 0);
  // Not refused (marked `unknown`): the flags an app can't set are recorded; what Discord does with them varies.
  if (extra !== 0) problems.push({ path: at("flags"), code: "MESSAGE_FLAGS_NOT_SETTABLE", message: `Flags ${extra} can't be set on this route (settable: ${SETTABLE[route]}).`, unknown: true });
  return problems;
}

function checkEmbeds(embeds: Json[], path: string): Problem[] {
  const problems: Problem[] = [];
  let total = 0;
  embeds.forEach((embed, i) => {
    const p = `${path}[${i}]`;
    const author = embed.author as Json | undefined;
    const footer = embed.footer as Json | undefined;
    const fields = Array.isArray(embed.fields) ? (embed.fields as Json[]) : [];
    if (len(embed.title) > LIMITS.embedTitle) problems.push(over(`${p}.title`, LIMITS.embedTitle));
    if (len(embed.description) > LIMITS.embedDescription) problems.push(over(`${p}.description`, LIMITS.embedDescription));
    if (len(author?.name) > LIMITS.authorName) problems.push(over(`${p}.author.name`, LIMITS.authorName));
    if (len(footer?.text) > LIMITS.footerText) problems.push(over(`${p}.footer.text`, LIMITS.footerText));
    if (fields.length > LIMITS.embedFields) problems.push(over(`${p}.fields`, LIMITS.embedFields));
    fields.forEach((field, j) => {
      if (len(field.name) === 0 || len(field.name) > LIMITS.fieldName) problems.push({ path: `${p}.fields[${j}].name`, code: "BASE_TYPE_BAD_LENGTH", message: `Must be between 1 and ${LIMITS.fieldName} in length.` });
      if (len(field.value) === 0 || len(field.value) > LIMITS.fieldValue) problems.push({ path: `${p}.fields[${j}].value`, code: "BASE_TYPE_BAD_LENGTH", message: `Must be between 1 and ${LIMITS.fieldValue} in length.` });
      total += len(field.name) + len(field.value);
    });
    total += len(embed.title) + len(embed.description) + len(author?.name) + len(footer?.text);
  });
  if (embeds.length > LIMITS.embeds) problems.push(over(path, LIMITS.embeds));
  if (total > LIMITS.embedTotal) problems.push({ path, code: "MAX_EMBED_SIZE_EXCEEDED", message: `Embed size exceeds maximum size of ${LIMITS.embedTotal} (${total}).` });
  return problems;
}

/** Every component in a tree (rows, sections, containers, labels), with its path. */
export function walkComponents(components: Json[], path = "components"): Array<{ component: Json; path: string }> {
  return components.flatMap((component, i) => {
    const p = `${path}[${i}]`;
    const children = Array.isArray(component.components) ? walkComponents(component.components as Json[], `${p}.components`) : [];
    const inner = component.component && typeof component.component === "object" ? [{ component: component.component as Json, path: `${p}.component` }] : [];
    const accessory = component.accessory && typeof component.accessory === "object" ? [{ component: component.accessory as Json, path: `${p}.accessory` }] : [];
    return [{ component, path: p }, ...children, ...inner, ...accessory];
  });
}

function checkComponents(components: Json[], v2: boolean, path: string): Problem[] {
  const problems: Problem[] = [];
  if (!v2) {
    if (components.length > LIMITS.actionRows) problems.push(over(path, LIMITS.actionRows));
    components.forEach((row, i) => {
      if (row.type !== 1) return void problems.push({ path: `${path}[${i}].type`, code: "COMPONENT_LAYOUT_WIDTH_EXCEEDED", message: "Only action rows (type 1) may be top-level without the IS_COMPONENTS_V2 flag." });
      const items = Array.isArray(row.components) ? (row.components as Json[]) : [];
      const selects = items.filter((c) => c.type !== 2).length;
      if (selects > 0 && items.length > 1) problems.push({ path: `${path}[${i}].components`, code: "COMPONENT_LAYOUT_WIDTH_EXCEEDED", message: "A select menu takes a whole action row." });
      if (items.length > LIMITS.rowButtons) problems.push(over(`${path}[${i}].components`, LIMITS.rowButtons));
    });
  }
  problems.push(...checkButtonsAndIds(walkComponents(components, path)));
  return problems;
}

/** Link/premium/regular buttons' required fields; custom_ids unique among the given components. */
export function checkButtonsAndIds(all: Array<{ component: Json; path: string }>): Problem[] {
  const problems: Problem[] = [];
  const seen = new Map<string, string>();
  for (const { component: c, path } of all) {
    if (c.type === 2) {
      if (c.style === 5 && (typeof c.url !== "string" || c.custom_id !== undefined)) problems.push({ path, code: "BUTTON_COMPONENT_URL_REQUIRED", message: "A link button (style 5) needs a url and no custom_id." });
      else if (c.style === 6 && c.sku_id === undefined) problems.push({ path, code: "BUTTON_COMPONENT_SKU_ID_REQUIRED", message: "A premium button (style 6) needs a sku_id." });
      else if (c.style !== 5 && c.style !== 6 && (typeof c.custom_id !== "string" || c.url !== undefined)) problems.push({ path: `${path}.custom_id`, code: "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED", message: "A button needs a custom_id (and no url)." });
      if (c.style !== 6 && len(c.label) === 0 && !c.emoji) problems.push({ path: `${path}.label`, code: "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED", message: "A button needs a label or an emoji." });
    }
    if (typeof c.custom_id === "string") {
      const first = seen.get(c.custom_id);
      if (first !== undefined) problems.push({ path: `${path}.custom_id`, code: "COMPONENT_CUSTOM_ID_DUPLICATED", message: `Component custom id "${c.custom_id}" is not unique (also at ${first}).` });
      else seen.set(c.custom_id, path);
    }
  }
  return problems;
}

/** Problems of a modal (a MODAL callback's `data`): 1–5 components, text inputs' lengths, unique custom_ids. */
export function checkModal(data: Json, path = "data"): Problem[] {
  const problems: Problem[] = [];
  const components = Array.isArray(data.components) ? (data.components as Json[]) : [];
  if (components.length > LIMITS.modalComponents) problems.push(over(`${path}.components`, LIMITS.modalComponents));
  const all = walkComponents(components, `${path}.components`);
  for (const { component: c, path: p } of all) {
    if (c.type !== 4) continue;
    const min = typeof c.min_length === "number" ? c.min_length : 0;
    const max = typeof c.max_length === "number" ? c.max_length : LIMITS.textInputMax;
    if (min > max) problems.push({ path: `${p}.min_length`, code: "BASE_TYPE_BAD_LENGTH", message: "min_length must not be over max_length." });
    if (len(c.value) > max) problems.push(over(`${p}.value`, max));
  }
  components.forEach((row, i) => {
    if (row.type === 1 && (!Array.isArray(row.components) || row.components.length !== 1)) problems.push({ path: `${path}.components[${i}].components`, code: "BASE_TYPE_BAD_LENGTH", message: "An action row in a modal holds exactly one text input." });
    if (row.type === 1 && Array.isArray(row.components) && (row.components as Json[]).some((c) => c.type === 4 && len(c.label) === 0)) problems.push({ path: `${path}.components[${i}]`, code: "BASE_TYPE_REQUIRED", message: "A text input in an action row needs a label (or put it in a Label component)." });
  });
  problems.push(...checkButtonsAndIds(all));
  return problems;
}

/** Adds Discord's numeric component `id`s (1, 2, 3... in tree order) where the app gave none, as Discord stores components. */
export function withIds(components: Json[]): Json[] {
  const copy = structuredClone(components);
  const used = new Set(walkComponents(copy).map(({ component }) => component.id).filter((id) => typeof id === "number"));
  let next = 1;
  for (const { component } of walkComponents(copy)) {
    if (typeof component.id === "number") continue;
    while (used.has(next)) next++;
    component.id = next;
    used.add(next);
  }
  return copy;
}
