/**
 * listSessions / listTasks in SQL, paged exactly like the memory store (src/store/query.ts):
 * newest first with the id breaking ties (descending, bytewise), keyset cursors in the same
 * format (base64url of `[time, id]`), or an offset.
 */
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor } from "../query.ts";
import type { Page, PageRequest } from "../port.ts";

/** WHERE conditions with their parameters, numbered as they are added. */
export class Conditions {
  readonly parts: string[] = [];
  readonly params: unknown[] = [];

  /** Adds a condition; each `$?` in it stands for the next of `values`. */
  add(sql: string, ...values: unknown[]): void {
    let i = 0;
    this.parts.push(
      sql.replace(/\$\?/g, () => {
        this.params.push(values[i++]);
        return `$${this.params.length}`;
      }),
    );
  }

  /** `column = value`, or `column = ANY(values)` for a list. */
  oneOf(column: string, want: string | string[] | undefined): void {
    if (want === undefined) return;
    if (Array.isArray(want)) this.add(`${column} = ANY($?::text[])`, want);
    else this.add(`${column} = $?`, want);
  }

  where(): string {
    return this.parts.length > 0 ? `WHERE ${this.parts.join(" AND ")}` : "";
  }
}

/**
 * One page of `data` from `table` matching `where`, ordered by (`timeColumn` desc, id desc).
 * Reads one row beyond the page to know whether there is a next one.
 */
export async function pageOf<T>(
  run: (sql: string, params: unknown[]) => Promise<Array<{ data: T; t: number; id: string }>>,
  table: string,
  timeColumn: string,
  where: Conditions,
  page: PageRequest = {},
): Promise<Page<T>> {
  const limit = Math.max(1, Math.floor(page.limit ?? DEFAULT_PAGE_SIZE));
  // As the memory store's slice does with a limit that is no number.
  if (Number.isNaN(limit)) return { items: [] };
  if (page.cursor !== undefined) {
    const [time, id] = decodeCursor(page.cursor);
    where.add(`(${timeColumn} < $? OR (${timeColumn} = $? AND id < $? COLLATE "C"))`, time, time, id);
  }
  const offset = page.cursor === undefined ? Math.max(0, Math.floor(page.offset ?? 0)) || 0 : 0;
  // LIMIT NULL is no limit (a limit of Infinity).
  const params = [...where.params, Number.isFinite(limit) ? limit + 1 : null, offset];
  const n = where.params.length;
  const rows = await run(`SELECT data, ${timeColumn} AS t, id FROM ${table} ${where.where()} ORDER BY ${timeColumn} DESC, id DESC LIMIT $${n + 1} OFFSET $${n + 2}`, params);
  const items = rows.slice(0, limit);
  const result: Page<T> = { items: items.map((r) => r.data) };
  const last = items.at(-1);
  if (last && rows.length > limit) result.nextCursor = encodeCursor([last.t, last.id]);
  return result;
}
