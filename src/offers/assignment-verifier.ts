/**
 * The pool's gatekeeper. Workers only propose; the main thread accepts a proposal after
 * re-checking it against the global state of the cycle (which already holds every proposal
 * accepted before it) and commits it there. A proposal that would over-commit an agent, reuse
 * or invent a port, or break a host or rack rule is refused and its task stays pending for the
 * second pass. This is what makes a double allocation impossible whatever the workers return.
 */
import type { EncodedSnapshot } from './compact-encoding.js';
import { firstRejection } from './feasibility.js';
import type { MatchPipeline } from './match-pipeline.js';

/** Whether `port` lies in one of offer o's free ranges. */
function inRanges(snap: EncodedSnapshot, o: number, port: number): boolean {
  for (let r = snap.offerPortStart[o]!; r < snap.offerPortStart[o + 1]!; r++) {
    if (port >= snap.offerPortBegin[r]! && port <= snap.offerPortEnd[r]!) return true;
  }
  return false;
}

/** The ports proposed for task t on offer o: flat[from .. from + n). */
function portsValid(
  snap: EncodedSnapshot,
  pipeline: MatchPipeline,
  t: number,
  o: number,
  flat: Int32Array,
  from: number,
  n: number,
): boolean {
  if (n !== snap.taskNeed[t * 4 + 3] || from + n > flat.length) return false;
  for (let i = from; i < from + n; i++) {
    const p = flat[i]!;
    if (!inRanges(snap, o, p) || pipeline.state.isPortUsed(o, p)) return false;
    // Quadratic, but a task asks for a handful of ports; cheaper than a Set per proposal.
    for (let j = from; j < i; j++) if (flat[j] === p) return false;
  }
  return true;
}

/**
 * Accepts task t on offer o with ports flat[from .. from + n) if that is still valid in the
 * pipeline's state, and commits it. `placed` marks tasks already accepted (a task is placed
 * at most once).
 */
export function acceptProposal(
  snap: EncodedSnapshot,
  pipeline: MatchPipeline,
  placed: Uint8Array,
  t: number,
  o: number,
  flat: Int32Array,
  from: number,
  n: number,
): boolean {
  if (!(t >= 0 && t < snap.taskCount && o >= 0 && o < snap.offerCount)) return false;
  if (placed[t] === 1) return false;
  if (firstRejection(pipeline.context, t, o) !== 0) return false;
  if (!portsValid(snap, pipeline, t, o, flat, from, n)) return false;
  pipeline.state.commit(t, o, flat, from, n);
  placed[t] = 1;
  return true;
}
