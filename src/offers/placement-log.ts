/**
 * Placements in one flat, growable Int32Array, in the order they were made: for each,
 * `task, offer, portCount, ...ports`. It is what the pipeline appends to, what a pool worker
 * posts back (one buffer, cheap to send) and what the verifier reads and appends the accepted
 * proposals to; the result's objects are built from it once, at the end. One buffer per run
 * instead of three growing arrays and an array per task's ports: a worker's heap then holds
 * almost nothing for its scavenges to copy.
 */

/** Ints per placement before its ports. */
export const RECORD_HEADER = 3;

/** An append-only list of placements in the wire format above. */
export class PlacementLog {
  /** The records are data[0 .. size). Re-read after an append: growing replaces it. */
  data: Int32Array;
  /** Ints in use. */
  size = 0;
  /** Placements in the log. */
  count = 0;

  /** @param expected placements to make room for at first (it grows as needed) */
  constructor(expected = 256) {
    this.data = new Int32Array(Math.max(64, expected * (RECORD_HEADER + 2)));
  }

  /**
   * Appends task t on offer o with n ports; returns the index of `data` where the caller
   * writes the n ports.
   */
  append(t: number, o: number, n: number): number {
    const at = this.size;
    if (at + RECORD_HEADER + n > this.data.length) this.grow(RECORD_HEADER + n);
    const d = this.data;
    d[at] = t;
    d[at + 1] = o;
    d[at + 2] = n;
    this.size = at + RECORD_HEADER + n;
    this.count++;
    return at + RECORD_HEADER;
  }

  /** Appends task t on offer o with the n ports src[from .. from + n). */
  copy(t: number, o: number, src: Int32Array, from: number, n: number): void {
    const at = this.append(t, o, n);
    for (let i = 0; i < n; i++) this.data[at + i] = src[from + i]!;
  }

  /** The records as an exact-size array of their own (what a worker posts back). */
  toArray(): Int32Array {
    return this.data.slice(0, this.size);
  }

  private grow(atLeast: number): void {
    const bigger = new Int32Array(Math.max(this.data.length * 2, this.size + atLeast));
    bigger.set(this.data.subarray(0, this.size));
    this.data = bigger;
  }
}
