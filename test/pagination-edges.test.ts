import { describe, expect, it } from 'vitest';
import { z } from '../src/http/zod.js';
import { decodeCursor, encodeCursor, pageFrom } from '../src/lib/cursor.js';
import { pageOf, pageQuery } from '../src/http/pagination.js';
import { AppError } from '../src/http/errors.js';
import { createRegistry, generateOpenApiDocument } from '../src/http/openapi.js';

// The edges of API.md's lists: `limit` 1-100 (default 20), opaque keyset cursors that a list accepts
// only if it issued them, and `next_cursor` null exactly on the last page.

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const refusal = (work: () => unknown): AppError => {
  try {
    work();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected the cursor to be refused');
};

describe('page size and cursor parameters', () => {
  const query = z.object(pageQuery);

  it('takes 20 rows when no limit is given, and any whole number from 1 to 100', () => {
    expect(query.parse({})).toEqual({ limit: 20 });
    expect(query.parse({ limit: '1' }).limit).toBe(1);
    expect(query.parse({ limit: '100', cursor: 'abc' })).toEqual({ limit: 100, cursor: 'abc' });
  });

  it('refuses a limit of 0, 101 or a fraction, and an empty or over-long cursor', () => {
    for (const bad of [{ limit: '0' }, { limit: '101' }, { limit: '2.5' }, { limit: 'ten' }, { cursor: '' }, { cursor: 'c'.repeat(201) }]) {
      expect(query.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(query.safeParse({ cursor: 'c'.repeat(200) }).success).toBe(true);
  });

  it('tells a client reading /openapi.json the page size range and where a cursor comes from', () => {
    const registry = createRegistry();
    registry.registerPath({ method: 'get', path: '/things', request: { query: query }, responses: { 200: { description: 'A page' } } });
    const parameters = generateOpenApiDocument(registry).paths?.['/things']?.get?.parameters as Array<{ name: string; description?: string }>;
    expect(parameters.map(({ name, description }) => [name, description])).toEqual([
      ['limit', 'Page size, 1-100'],
      ['cursor', 'Opaque cursor from the previous page'],
    ]);
  });

  it('answers pages of the item schema with a nullable next cursor', () => {
    const page = pageOf(z.object({ id: z.number() }));
    expect(page.parse({ data: [{ id: 1 }], next_cursor: null })).toEqual({ data: [{ id: 1 }], next_cursor: null });
    expect(page.safeParse({ data: [{ id: 'one' }], next_cursor: null }).success).toBe(false);
    expect(page.safeParse({ data: [], next_cursor: 7 }).success).toBe(false);
    expect(page.safeParse({ next_cursor: null }).success).toBe(false);
  });
});

describe('keyset cursors', () => {
  it('gives back exactly the key it encoded, opaque and URL-safe', () => {
    const cursor = encodeCursor(['ann@example.com', 'sub-1']);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, ['string', 'string'])).toEqual(['ann@example.com', 'sub-1']);
    expect(decodeCursor(encodeCursor([42]), ['number'])).toEqual([42]);
    expect(decodeCursor(encodeCursor([Number.MAX_SAFE_INTEGER, 'x']), ['number', 'string'])).toEqual([Number.MAX_SAFE_INTEGER, 'x']);
  });

  it('refuses a made-up cursor whose text Postgres could not store or compare (a NUL, a line break), with 400 rather than a database error', () => {
    for (const text of ['ann\u0000@example.com', 'ann\n@example.com', 'ann\t@example.com', '\uD800']) {
      const error = refusal(() => decodeCursor(cursorOf([text, 'sub-1']), ['string', 'string']));
      expect([error.code, error.status, error.errors], JSON.stringify(text)).toEqual([
        'validation_failed',
        400,
        [{ path: 'cursor', message: 'not a cursor this list issued' }],
      ]);
    }
  });

  it('reads no cursor as the first page', () => {
    expect(decodeCursor(undefined, ['number'])).toBeUndefined();
  });

  it('refuses a cursor another list issued, or one a client made up, with 400 naming the cursor', () => {
    const foreign = [
      'garbage!',
      cursorOf({ id: 1 }),
      cursorOf('1'),
      cursorOf([]),
      cursorOf([1, 2]),
      cursorOf(['1']),
      cursorOf([1.5]),
      cursorOf([2 ** 53]),
      cursorOf([null]),
      Buffer.from('[1').toString('base64url'),
    ];
    for (const cursor of foreign) {
      const error = refusal(() => decodeCursor(cursor, ['number']));
      expect([error.code, error.status], cursor).toEqual(['validation_failed', 400]);
      expect(error.detail).toBe('The cursor is not valid');
      expect(error.errors).toEqual([{ path: 'cursor', message: 'not a cursor this list issued' }]);
    }
    // A staff list's cursor is two strings: a number, or one string, is not one of its cursors.
    for (const cursor of [encodeCursor([7]), encodeCursor(['ann@example.com']), encodeCursor(['ann@example.com', 7]), encodeCursor([7, 'sub-1'])]) {
      expect(refusal(() => decodeCursor(cursor, ['string', 'string'])).code).toBe('validation_failed');
    }
  });
});

describe('one page of a list', () => {
  const rows = (count: number) => Array.from({ length: count }, (_, i) => ({ id: 100 - i }));
  const page = (count: number, limit: number) =>
    pageFrom(
      rows(count),
      limit,
      (row) => [row.id],
      (row) => ({ order: row.id }),
    );

  it('keeps the first `limit` rows and points the next page after the last one kept', () => {
    const first = page(4, 3);
    expect(first.data).toEqual([{ order: 100 }, { order: 99 }, { order: 98 }]);
    expect(first.next_cursor).not.toBeNull();
    expect(decodeCursor(first.next_cursor!, ['number'])).toEqual([98]);
  });

  it('says there is no next page when exactly `limit` rows or fewer were found', () => {
    expect(page(3, 3)).toEqual({ data: [{ order: 100 }, { order: 99 }, { order: 98 }], next_cursor: null });
    expect(page(1, 3)).toEqual({ data: [{ order: 100 }], next_cursor: null });
    expect(page(0, 3)).toEqual({ data: [], next_cursor: null });
  });
});
