import { validationFailed } from './errors.js';
import { textProblem } from './text.js';

/** One page of a keyset-paginated list (API.md "Pagination"). */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/**
 * Keyset cursors: the sort key of the last row seen, base64url-encoded so clients treat it as opaque.
 * Unlike offsets they stay correct while rows are inserted between pages.
 */
export function encodeCursor(key: ReadonlyArray<string | number>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, shape: ReadonlyArray<'number' | 'string'>): Array<string | number> | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.length === shape.length &&
    parsed.every((value, i) => (shape[i] === 'number' ? Number.isSafeInteger(value) : typeof value === 'string' && textProblem(value, false) === undefined));
  if (!valid) throw validationFailed('The cursor is not valid', [{ path: 'cursor', message: 'not a cursor this list issued' }]);
  return parsed as Array<string | number>;
}

/** Fetch `limit + 1` rows; this trims the extra one and derives the next cursor from the last row kept. */
export function pageFrom<Row, Item>(rows: Row[], limit: number, keyOf: (row: Row) => ReadonlyArray<string | number>, toItem: (row: Row) => Item): Page<Item> {
  const hasMore = rows.length > limit;
  const kept = hasMore ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return { data: kept.map(toItem), next_cursor: hasMore && last !== undefined ? encodeCursor(keyOf(last)) : null };
}
