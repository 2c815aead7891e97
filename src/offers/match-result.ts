/**
 * Turns the pipeline's index-based outcome back into the public objects: assignments carry
 * the task key and agent, unplaced tasks their named rejection counts.
 */
import {
  REJECTION_REASONS,
  type Assignment,
  type MatchResult,
  type RejectionReason,
  type UnplacedTask,
} from './offer-model.js';
import type { InputRefs } from './compact-encoding.js';
import type { ReasonCounts } from './match-pipeline.js';
import { RECORD_HEADER, type PlacementLog } from './placement-log.js';
import { NO_PORTS } from './port-assigner.js';

function toReasons(counts: ReasonCounts | undefined): Partial<Record<RejectionReason, number>> {
  const reasons: Partial<Record<RejectionReason, number>> = {};
  if (!counts) return reasons;
  REJECTION_REASONS.forEach((name, i) => {
    const n = counts[i + 1]!;
    if (n > 0) reasons[name] = n;
  });
  return reasons;
}

/**
 * A copy of flat[from .. from + n) as a plain array (what an assignment carries). Literals for
 * the usual one or two ports: `new Array(n)` with a variable n is a runtime call, and this
 * runs for most of 10^5 placements.
 */
function portsAt(flat: Int32Array, from: number, n: number): readonly number[] {
  if (n === 0) return NO_PORTS;
  if (n === 1) return [flat[from]!];
  if (n === 2) return [flat[from]!, flat[from + 1]!];
  const ports: number[] = [];
  for (let i = 0; i < n; i++) ports.push(flat[from + i]!);
  return ports;
}

/**
 * Appends to `out` the assignments of the records of `placed` from int offset `from` on, in
 * order, and returns the offset past the last. Keys, resources, agent ids and hosts come from
 * the dense `refs`, so no input object is visited in the (random) placement order.
 */
export function appendAssignments(
  refs: InputRefs,
  placed: PlacementLog,
  from: number,
  out: Assignment[],
): number {
  const flat = placed.data;
  let k = from;
  while (k < placed.size) {
    const t = flat[k]!;
    const o = flat[k + 1]!;
    const n = flat[k + 2]!;
    out.push({
      taskKey: refs.taskKeys[t]!,
      agentId: refs.agentIds[o]!,
      host: refs.hosts[o]!,
      resources: refs.taskResources[t]!,
      ports: portsAt(flat, k + RECORD_HEADER, n),
    });
    k += RECORD_HEADER + n;
  }
  return k;
}

/**
 * Builds the public result: assignments in placement order (`assignments` may already hold
 * those of the records before int offset `from`), unplaced tasks in matching order.
 */
export function toMatchResult(
  refs: InputRefs,
  placed: PlacementLog,
  unplaced: readonly number[],
  reasons: ReadonlyMap<number, ReasonCounts>,
  assignments: Assignment[] = [],
  from = 0,
): MatchResult {
  appendAssignments(refs, placed, from, assignments);
  const pending: UnplacedTask[] = unplaced.map((t) => ({
    taskKey: refs.taskKeys[t]!,
    reasons: toReasons(reasons.get(t)),
  }));
  return { assignments, unplaced: pending };
}
