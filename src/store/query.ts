/**
 * Filtering, ordering and keyset paging for listSessions / listTasks.
 *
 * Pages are keyed by the last item's (time, id), not by an offset, so a page boundary
 * doesn't shift when records are added meanwhile: no duplicates, no misses.
 */
import { ChatflowError } from "../errors.ts";
import type { Session } from "../model.ts";
import type { Task } from "./records.ts";
import type { FeedFilter, FeedPageRequest, Page, PageRequest, SessionFilter, TaskFilter } from "./port.ts";

/** Page size when `limit` is not given. */
export const DEFAULT_PAGE_SIZE = 50;

export type SortKey = [time: number, id: string];

export function encodeCursor(key: SortKey): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

export function decodeCursor(cursor: string): SortKey {
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === "number" && typeof v[1] === "string") return [v[0], v[1]];
  } catch {
    // Falls through to the error below.
  }
  throw new ChatflowError("validation", `Invalid page cursor: ${JSON.stringify(cursor)}. Pass the nextCursor of the previous page.`);
}

/** Newest first; ties broken by id (descending) so the order is total and stable. */
function compareDesc(a: SortKey, b: SortKey): number {
  if (a[0] !== b[0]) return b[0] - a[0];
  return a[1] < b[1] ? 1 : a[1] > b[1] ? -1 : 0;
}

/** Sorts `items` newest first (in place) and returns the requested page. */
export function paginate<T>(items: T[], keyOf: (item: T) => SortKey, page: PageRequest = {}): Page<T> {
  const limit = Math.max(1, Math.floor(page.limit ?? DEFAULT_PAGE_SIZE));
  const keyed = items.map((item) => ({ item, key: keyOf(item) }));
  keyed.sort((a, b) => compareDesc(a.key, b.key));
  let start = page.cursor === undefined ? Math.max(0, Math.floor(page.offset ?? 0)) : 0;
  if (page.cursor !== undefined) {
    const after = decodeCursor(page.cursor);
    // First item strictly after the cursor position in sort order.
    let lo = 0;
    let hi = keyed.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareDesc(keyed[mid]!.key, after) <= 0) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  const slice = keyed.slice(start, start + limit);
  const result: Page<T> = { items: slice.map((k) => k.item) };
  const last = slice[slice.length - 1];
  if (last && start + limit < keyed.length) result.nextCursor = encodeCursor(last.key);
  return result;
}

function oneOf<T>(want: T | T[] | undefined, value: T): boolean {
  if (want === undefined) return true;
  return Array.isArray(want) ? want.includes(value) : want === value;
}

export function matchSession(s: Session, f: SessionFilter): boolean {
  return (
    (f.platform === undefined || s.platform === f.platform) &&
    (f.user === undefined || s.owner === f.user) &&
    oneOf(f.state, s.state) &&
    (f.activeAfter === undefined || s.lastActiveAt >= f.activeAfter) &&
    (f.activeBefore === undefined || s.lastActiveAt < f.activeBefore)
  );
}

export function matchTask(t: Task, f: TaskFilter): boolean {
  return (
    oneOf(f.status, t.status) &&
    (f.sessionId === undefined || t.sessionId === f.sessionId) &&
    (f.workflow === undefined || t.workflow === f.workflow) &&
    (f.owner === undefined || t.owner === f.owner) &&
    (f.finishedBefore === undefined || (t.finishedAt !== undefined && t.finishedAt < f.finishedBefore)) &&
    (f.finishedAfter === undefined || (t.finishedAt !== undefined && t.finishedAt >= f.finishedAfter)) &&
    (f.updatedAfter === undefined || t.updatedAt >= f.updatedAfter)
  );
}

export const sessionOrder = (s: Session): SortKey => [s.lastActiveAt, s.id];
export const taskOrder = (t: Task): SortKey => [t.createdAt, t.id];

/**
 * `{...base, ...patch}` where a patch value of `undefined` removes the field (so clearing
 * e.g. `waiting` looks the same in memory and after a JSON round trip). `fixed` wins over both.
 */
export function mergePatch<T extends object>(base: T, patch: object, fixed: Partial<T>): T {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return Object.assign(out, fixed) as T;
}

/**
 * The next version of a record with a revision after `patch` (rev bumped), or undefined when
 * it is missing or `ifRev` is given and differs: the conditional update of tasks and schedules.
 */
export function revise<T extends { id: string; rev: number }>(current: T | undefined, patch: object, ifRev?: number): T | undefined {
  if (!current) return undefined;
  if (ifRev !== undefined && current.rev !== ifRev) return undefined;
  // A record that keeps `updatedAt` gets it bumped by every change that does not set it itself.
  const touched = "updatedAt" in current && !("updatedAt" in patch) ? { updatedAt: Date.now() } : {};
  return mergePatch(current, patch, { id: current.id, rev: current.rev + 1, ...touched } as Partial<T>);
}

/** Default and largest page of `readFeed`. */
export const DEFAULT_FEED_PAGE = 100;
export const MAX_FEED_PAGE = 1000;

/** The page size `readFeed` uses for a request. */
export function feedLimit(page: FeedPageRequest = {}): number {
  const n = Math.floor(page.limit ?? DEFAULT_FEED_PAGE);
  return n > 0 ? Math.min(n, MAX_FEED_PAGE) : 0;
}

/** The sessions a filter names (`sessionId` and `sessionIds` together), or undefined when it names none. */
export function feedSessions(filter: FeedFilter = {}): Set<string> | undefined {
  if (filter.sessionId === undefined && filter.sessionIds === undefined) return undefined;
  return new Set([...(filter.sessionId !== undefined ? [filter.sessionId] : []), ...(filter.sessionIds ?? [])]);
}

/** A predicate for the events a filter selects. */
export function feedMatcher(filter: FeedFilter = {}): (event: { sessionId: string; taskId?: string }) => boolean {
  const sessions = feedSessions(filter);
  const { taskId } = filter;
  return (event) => (sessions === undefined || sessions.has(event.sessionId)) && (taskId === undefined || event.taskId === taskId);
}
