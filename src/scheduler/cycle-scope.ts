/**
 * Which requests a cycle plans: the pure decision behind incremental cycles. A cycle plans a
 * request whose desired state changed, whose tasks changed, that the last cycle left with
 * launches to place (offers may have freed up), or whose crash back-off may have expired;
 * and every request on a full plan (the first of a leadership, then periodically, a net
 * under any change the notes above could miss).
 */
/** What the scope is decided from. */
export interface CycleScopeInput {
  /** Requests whose desired state changed (`'all'`: rebuilt). */
  desiredChanged: ReadonlySet<string> | 'all';
  /** Requests whose active tasks changed. */
  tasksChanged: ReadonlySet<string>;
  /** Requests the last cycle left launches to (placed or not). */
  carried: ReadonlySet<string>;
  /** `requestId/instanceNo` → back-off end (the crash back-off's keys). */
  notBefore: ReadonlyMap<string, number>;
  /** When the last cycle ran (back-offs that ended since are due now). */
  lastCycleAt: number;
  lastFullPlanAt: number;
  fullPlanEveryMs: number;
  now: number;
}

/** Every request, or the ids of those to plan. */
export type CycleScope = 'all' | ReadonlySet<string>;

/** The requests this cycle plans. */
export function cycleScope(input: CycleScopeInput): CycleScope {
  if (input.desiredChanged === 'all') return 'all';
  if (input.now - input.lastFullPlanAt >= input.fullPlanEveryMs) return 'all';
  const scope = new Set<string>([...input.desiredChanged, ...input.tasksChanged, ...input.carried]);
  for (const [key, until] of input.notBefore) {
    if (until > input.now || until <= input.lastCycleAt) continue;
    scope.add(requestOfInstanceKey(key));
  }
  return scope;
}

/** The request id of reconcile-plan.ts's `instanceKey` (request ids contain no slash). */
function requestOfInstanceKey(key: string): string {
  return key.slice(0, key.lastIndexOf('/'));
}
