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
import type { EncodedSnapshot, InputRefs } from './compact-encoding.js';
import type { PipelineOutcome, ReasonCounts } from './match-pipeline.js';

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
 * Placements as parallel lists in placement order: the first `count` entries of each. The
 * pool's verifier fills preallocated typed arrays; the single-threaded path passes its
 * pipeline outcome as is.
 */
export interface Placements {
  readonly count: number;
  readonly tasks: ArrayLike<number>;
  readonly offers: ArrayLike<number>;
  readonly ports: ArrayLike<readonly number[]>;
}

/** A pipeline outcome as {@link Placements}. */
export function placementsOf(outcome: PipelineOutcome): Placements {
  return { count: outcome.tasks.length, ...outcome };
}

/**
 * Builds the public result; `placed` in placement order, `unplaced` in matching order. Keys,
 * resources, agent ids and hosts come from the dense `refs`, so no input object is visited in
 * the (random) placement order.
 */
export function toMatchResult(
  refs: InputRefs,
  snap: EncodedSnapshot,
  placed: Placements,
  unplaced: readonly number[],
  reasons: ReadonlyMap<number, ReasonCounts>,
): MatchResult {
  const assignments = new Array<Assignment>(placed.count);
  for (let i = 0; i < assignments.length; i++) {
    const t = placed.tasks[i]!;
    const o = placed.offers[i]!;
    assignments[i] = {
      taskKey: refs.taskKeys[t]!,
      agentId: refs.agentIds[o]!,
      host: refs.hosts[o]!,
      resources: refs.taskResources[t]!,
      ports: placed.ports[i]!,
    };
  }
  const pending: UnplacedTask[] = unplaced.map((t) => ({
    taskKey: refs.taskKeys[t]!,
    reasons: toReasons(reasons.get(t)),
  }));
  return { assignments, unplaced: pending };
}
