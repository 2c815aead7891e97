/**
 * A count per pair of small non-negative integers, in flat typed arrays: open addressing with
 * linear probing, doubling when half full. The matcher's per-cycle state keeps its counts here
 * (tasks of a deploy per host or rack, ports taken per offer) instead of one Map or Set per
 * host and offer: each probe reads two adjacent slots instead of chasing a hash table object,
 * and the tables are a few ArrayBuffers the garbage collector never traces or copies, where
 * 10^4 small Maps and Sets survived every scavenge of a cycle.
 */

/** First table size (pairs); a power of two. */
const INITIAL_CAPACITY = 1 << 12;

/** Counts per (a, b) pair, with a and b in [0, 2^31 - 1). */
export class PairCounter {
  /** Per slot: a + 1 and b (0 in the first = empty, so a fresh table needs no fill). */
  private keys: Int32Array;
  private counts: Int32Array;
  private mask: number;
  private used = 0;

  constructor(expectedPairs = 0) {
    let capacity = INITIAL_CAPACITY;
    while (capacity < expectedPairs * 2) capacity *= 2;
    this.keys = new Int32Array(capacity * 2);
    this.counts = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  /** Pairs with a non-zero count. */
  get size(): number {
    return this.used;
  }

  /** The count of (a, b); 0 when never added. */
  get(a: number, b: number): number {
    const keys = this.keys;
    const tag = a + 1;
    for (let i = slotOf(a, b, this.mask); ; i = (i + 1) & this.mask) {
      const k = keys[i * 2]!;
      if (k === 0) return 0;
      if (k === tag && keys[i * 2 + 1] === b) return this.counts[i]!;
    }
  }

  /** Adds one to the count of (a, b); returns the new count. */
  increment(a: number, b: number): number {
    const keys = this.keys;
    const tag = a + 1;
    for (let i = slotOf(a, b, this.mask); ; i = (i + 1) & this.mask) {
      const k = keys[i * 2]!;
      if (k === tag && keys[i * 2 + 1] === b) return ++this.counts[i]!;
      if (k === 0) {
        keys[i * 2] = tag;
        keys[i * 2 + 1] = b;
        this.counts[i] = 1;
        if (++this.used * 2 > this.mask + 1) this.grow();
        return 1;
      }
    }
  }

  private grow(): void {
    const { keys, counts } = this;
    const capacity = (this.mask + 1) * 2;
    this.keys = new Int32Array(capacity * 2);
    this.counts = new Int32Array(capacity);
    this.mask = capacity - 1;
    for (let j = 0; j < counts.length; j++) {
      const tag = keys[j * 2]!;
      if (tag === 0) continue;
      const b = keys[j * 2 + 1]!;
      let i = slotOf(tag - 1, b, this.mask);
      while (this.keys[i * 2] !== 0) i = (i + 1) & this.mask;
      this.keys[i * 2] = tag;
      this.keys[i * 2 + 1] = b;
      this.counts[i] = counts[j]!;
    }
  }
}

/** Home slot of (a, b): both multiplied by odd constants, mixed, masked. */
function slotOf(a: number, b: number, mask: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 13;
  return h & mask;
}
