/**
 * Scores a feasible (task, offer) pair; higher is better. Resources left on the offer after
 * placing are normalised by the largest offer of the cycle, so cpus, memory and disk weigh by
 * their weights rather than by their units.
 */
import { CPUS, DISK, MEM, REASON_CODE, SLOTS, type EncodedSnapshot } from './compact-encoding.js';
import type { MatchState } from './match-state.js';
import type { ResolvedMatchOptions } from './offer-model.js';

/** Scores task t on offer o. */
export type OfferScorer = (t: number, o: number) => number;

/**
 * Makes the scorer of the chosen mode. `binpack` prefers the offer left fullest (best fit: it
 * keeps big holes for big tasks, which is what lets a busy cluster place the most); `spread`
 * prefers the offer left emptiest (blast radius, noisy neighbours).
 *
 * An OPTIMISTIC task first prefers the host holding the fewest tasks of its request, then the
 * resources decide: the placement spreads where it can and doubles up (up to its cap) only
 * where it must. Each task already on the host costs more than any resource difference can
 * gain (the leftover term stays within the weights' sum).
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
  const byResources: OfferScorer =
    options.scoring === 'spread' ? leftover : (t, o) => -leftover(t, o);
  const perTaskOnHost = weights.cpus + weights.memoryMb + weights.diskMb + 1;
  const scope = snap.taskHostScope;
  const reason = snap.taskHostReason;
  const optimistic = REASON_CODE.OPTIMISTIC_HOST_SATURATED;
  return (t, o) =>
    reason[t] === optimistic
      ? byResources(t, o) - perTaskOnHost * state.onHost(scope[t]!, o)
      : byResources(t, o);
}
