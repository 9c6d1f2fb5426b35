/** Builders of Bot API objects (User, Chat, Message, Update), shaped as Bot API 10.1 documents them. */

export interface FakeUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  username?: string;
  language_code?: string;
}

export interface FakeChat {
  id: number;
  type: "private" | "group" | "supergroup" | "channel";
  title?: string;
  first_name?: string;
  username?: string;
  is_forum?: true;
}

/** A person with this id (private chat id = user id, as on Telegram). */
export function person(id: number): FakeUser {
  return { id, is_bot: false, first_name: `User ${id}`, username: `user${id}`, language_code: "en" };
}

/** The chat object for an id: positive ids are private chats, negative ones supergroups. */
export function chatFor(id: number, forums: ReadonlySet<number> = new Set()): FakeChat {
  if (id > 0) return { id, type: "private", first_name: `User ${id}`, username: `user${id}` };
  return { id, type: "supergroup", title: `Group ${-id}`, ...(forums.has(id) ? { is_forum: true as const } : {}) };
}

export interface UserMessageOptions {
  /** The chat; default the sender's private chat. */
  chatId?: number;
  /** The sender; default the chat id (a private chat). */
  userId?: number;
  text: string;
  /** Reply to this message (e.g. a ForceReply prompt of the bot). */
  replyTo?: Record<string, unknown>;
  /** Forum topic id. */
  threadId?: number;
}

/** `bot_command` and `mention` entities, as Telegram adds them. */
export function entitiesOf(text: string): Array<{ type: string; offset: number; length: number }> {
  const entities: Array<{ type: string; offset: number; length: number }> = [];
  const command = /^\/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?/.exec(text);
  if (command) entities.push({ type: "bot_command", offset: 0, length: command[0].length });
  for (const match of text.matchAll(/(^|\s)(@[A-Za-z0-9_]{5,32})/g)) {
    entities.push({ type: "mention", offset: (match.index ?? 0) + match[1]!.length, length: match[2]!.length });
  }
  return entities;
}
