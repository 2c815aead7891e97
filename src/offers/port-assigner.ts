/**
 * Picks the ports of a placed task from its offer's free ranges. The starting point is random
 * (seeded) so that restarts of the same task do not all fight over the first port of the range;
 * from there ports are taken in order, skipping ones already handed out this cycle.
 */
import type { EncodedSnapshot } from './compact-encoding.js';
import type { MatchState } from './match-state.js';
import type { SeededRandom } from './seeded-random.js';

/** Shared by every placement without ports: one frozen array, not 10^5 empty ones. */
export const NO_PORTS: readonly number[] = Object.freeze([]);

function portAt(snap: EncodedSnapshot, o: number, index: number): number {
  let i = index;
  for (let r = snap.offerPortStart[o]!; r < snap.offerPortStart[o + 1]!; r++) {
    const size = snap.offerPortEnd[r]! - snap.offerPortBegin[r]! + 1;
    if (i < size) return snap.offerPortBegin[r]! + i;
    i -= size;
  }
  throw new RangeError(`port index ${index} beyond the ranges of offer ${o}`);
}

/**
 * Writes `count` distinct free ports of offer o to out[at .. at + count). The caller has
 * checked that at least `count` ports are free (the INSUFFICIENT_PORTS stage), so the walk
 * finds them.
 */
export function assignPorts(
  snap: EncodedSnapshot,
  state: MatchState,
  o: number,
  count: number,
  rng: SeededRandom,
  out: Int32Array,
  at: number,
): void {
  if (count === 0) return;
  const total = snap.offerFree[o * 4 + 3]!;
  let index = rng.int(total);
  let found = 0;
  for (let seen = 0; found < count && seen < total; seen++) {
    const port = portAt(snap, o, index);
    if (!state.isPortUsed(o, port)) out[at + found++] = port;
    index = index + 1 === total ? 0 : index + 1;
  }
}
