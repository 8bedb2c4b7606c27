/**
 * Sets `key` in a map used as a bounded memory: a key set again becomes the newest, and when the map
 * already holds `limit` other keys the oldest (first in insertion order) is forgotten first.
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, limit: number): void {
  map.delete(key);
  if (map.size >= limit) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
  map.set(key, value);
}
