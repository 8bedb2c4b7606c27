import { describe, expect, it } from 'vitest';
import { setBounded } from '../src/lib/bounded-map.js';

/** The map after setting each key to its position (1, 2, …) in turn, kept to `limit` keys. */
function filled(keys: string, limit: number, map = new Map<string, number>()): Map<string, number> {
  for (const [index, key] of [...keys].entries()) setBounded(map, key, index + 1, limit);
  return map;
}

describe('setBounded: a map kept to a number of keys, oldest forgotten first', () => {
  it('forgets the oldest key once the map holds the limit', () => {
    expect(Object.fromEntries(filled('abcd', 3))).toEqual({ b: 2, c: 3, d: 4 });
  });

  it('a key set again takes its new value, becomes the newest and forgets no other', () => {
    const map = filled('abc', 3);
    setBounded(map, 'a', 10, 3);
    expect([...map.keys()]).toEqual(['b', 'c', 'a']);
    expect(map.get('a')).toBe(10);
    setBounded(map, 'd', 4, 3);
    expect(Object.fromEntries(map)).toEqual({ c: 3, a: 10, d: 4 });
  });

  it('with a limit of one, holds only the last key', () => {
    expect(Object.fromEntries(filled('ab', 1))).toEqual({ b: 2 });
  });
});
