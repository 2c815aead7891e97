/**
 * Scores a feasible (task, offer) pair; higher is better. Resources left on the offer after
 * placing are normalised by the largest offer of the cycle, so cpus, memory and disk weigh by
 * their weights rather than by their units.
 */
import { CPUS, DISK, MEM, SLOTS, type EncodedSnapshot } from './compact-encoding.js';
import type { MatchState } from './match-state.js';
import type { ResolvedMatchOptions } from './offer-model.js';

/** Scores task t on offer o. */
export type OfferScorer = (t: number, o: number) => number;

/**
 * Makes the scorer of the chosen mode. `binpack` prefers the offer left fullest (best fit: it
 * keeps big holes for big tasks, which is what lets a busy cluster place the most); `spread`
 * prefers the offer left emptiest (blast radius, noisy neighbours).
 */
export function makeOfferScorer(
  snap: EncodedSnapshot,
  state: MatchState,
  options: ResolvedMatchOptions,
): OfferScorer {
  const { weights } = options;
  // Weight per unit of each resource; a resource no offer has cannot discriminate: weight 0.
  const wc = snap.norm[0]! > 0 ? weights.cpus / snap.norm[0]! : 0;
  const wm = snap.norm[1]! > 0 ? weights.memoryMb / snap.norm[1]! : 0;
  const wd = snap.norm[2]! > 0 ? weights.diskMb / snap.norm[2]! : 0;
  const { free } = state;
  const need = snap.taskNeed;
  const leftover = (t: number, o: number): number =>
    wc * (free[o * SLOTS + CPUS]! - need[t * SLOTS + CPUS]!) +
    wm * (free[o * SLOTS + MEM]! - need[t * SLOTS + MEM]!) +
    wd * (free[o * SLOTS + DISK]! - need[t * SLOTS + DISK]!);
  return options.scoring === 'spread' ? leftover : (t, o) => -leftover(t, o);
}
