// A map of at most `capacity` entries that drops the least recently used one when full: jit's
// cache of compiled programs, so that calls with ever new signatures cannot keep compiled code
// and its buffers forever. A Map iterates in insertion order, so re-inserting an entry on use
// keeps the oldest first.
export class LruCache<K, V> {
  private readonly map = new Map<K, V>();
  private newest: K | undefined;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.map.size;
  }

  /** The entry, now the most recently used. */
  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined && key !== this.newest) {
      this.map.delete(key);
      this.map.set(key, value);
      this.newest = key;
    }
    return value;
  }

  /** Adds an entry; returns how many old ones were dropped to make room (0 or 1). */
  set(key: K, value: V): number {
    this.map.delete(key);
    this.map.set(key, value);
    this.newest = key;
    let dropped = 0;
    for (const oldest of this.map.keys()) {
      if (this.map.size <= this.capacity) break;
      this.map.delete(oldest);
      dropped++;
    }
    return dropped;
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }
}
