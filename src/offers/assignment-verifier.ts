/**
 * The pool's gatekeeper. Workers only propose; the main thread accepts a proposal after
 * re-checking it against the global state of the cycle (which already holds every proposal
 * accepted before it) and commits it there. A proposal that would over-commit an agent, reuse
 * or invent a port, or break a host or rack rule is refused and its task stays pending for the
 * second pass. This is what makes a double allocation impossible whatever the workers return.
 */
import type { EncodedSnapshot } from './compact-encoding.js';
import type { MatchPipeline } from './match-pipeline.js';

/** Whether `port` lies in one of offer o's free ranges. */
function inRanges(snap: EncodedSnapshot, o: number, port: number): boolean {
  for (let r = snap.offerPortStart[o]!; r < snap.offerPortStart[o + 1]!; r++) {
    if (port >= snap.offerPortBegin[r]! && port <= snap.offerPortEnd[r]!) return true;
  }
  return false;
}

function portsValid(
  snap: EncodedSnapshot,
  pipeline: MatchPipeline,
  t: number,
  o: number,
  ports: ArrayLike<number>,
): boolean {
  if (ports.length !== snap.taskNeed[t * 4 + 3]) return false;
  for (let i = 0; i < ports.length; i++) {
    const p = ports[i]!;
    if (!Number.isInteger(p) || !inRanges(snap, o, p) || pipeline.state.isPortUsed(o, p)) {
      return false;
    }
    // Quadratic, but a task asks for a handful of ports; cheaper than a Set per proposal.
    for (let j = 0; j < i; j++) if (ports[j] === p) return false;
  }
  return true;
}

/**
 * Accepts task t on offer o with `ports` if it is still valid in the pipeline's state, and
 * commits it. `placed` marks tasks already accepted (a task is placed at most once).
 */
export function acceptProposal(
  snap: EncodedSnapshot,
  pipeline: MatchPipeline,
  placed: Uint8Array,
  t: number,
  o: number,
  ports: ArrayLike<number>,
): boolean {
  if (!(t >= 0 && t < snap.taskCount && o >= 0 && o < snap.offerCount)) return false;
  if (placed[t] === 1) return false;
  if (pipeline.rejectionOf(t, o) !== 0) return false;
  if (!portsValid(snap, pipeline, t, o, ports)) return false;
  pipeline.state.commit(t, o, ports);
  placed[t] = 1;
  return true;
}
