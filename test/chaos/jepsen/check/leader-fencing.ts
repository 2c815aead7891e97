/**
 * Invariant 1, "at most one replica's leader writes land at any time", checked on every
 * committed transaction. A leader claims term T with a multi that checks its own latch znode
 * and sets `/leader/term`; every later leader write is a multi that checks the same latch
 * first. So, at each zxid:
 *  - a term claim must be fenced by the lowest live latch, and raise the term by one;
 *  - a fenced write must be fenced by the latch holding the current term — any other live
 *    latch means a second replica's leader writes landed;
 *  - the leader-only documents (tasks, active and past deploys, the heartbeat, lb services and
 *    lb group members) are never written unfenced.
 */
import type { ReplayNode, ReplayStep, TreeReplay } from '../zk/replay.js';
import { jsonOf } from '../zk/replay.js';
import type { ReplayVisitor, Violation } from './types.js';

/** One leadership, as `/leader/term` recorded it. */
export interface TermClaim {
  term: number;
  leaderId: string;
  latch: string;
  at: number;
  zxid: number;
}

/** Documents only a leader writes (directories, which carry no state, are not among them). */
const LEADER_ONLY = [
  /^\/tasks\/(active|history)\/[^/]+\/[^/]+$/,
  /^\/deploys\/[^/]+\/(active|history)\/[^/]+$/,
  /^\/leader\/heartbeat$/,
  /^\/lb\/services\/[^/]+$/,
  /^\/lb\/groups\/[^/]+\/agents\/[^/]+$/,
];

/** Whether only a leader may write `path`. */
export function isLeaderOnly(path: string): boolean {
  return LEADER_ONLY.some((re) => re.test(path));
}

/** The invariant-1 pass. */
export class LeaderFencingCheck implements ReplayVisitor {
  readonly violations: Violation[] = [];
  readonly terms: TermClaim[] = [];
  /** Fenced writes that landed (evidence the check had something to check). */
  fencedWrites = 0;

  onStep(step: ReplayStep, tree: TreeReplay): void {
    const termOp = step.applied.find((a) => a.path === '/leader/term' && a.after);
    if (termOp) {
      this.onClaim(step, termOp.after as ReplayNode, tree);
      return;
    }
    if (step.fence) {
      this.fencedWrites++;
      const current = this.terms[this.terms.length - 1];
      if (!current || current.latch !== step.fence) {
        this.violations.push({
          invariant: '1',
          check: 'write-of-non-leader-landed',
          at: step.txn.time,
          message: `a write fenced by ${step.fence} landed while ${current ? `${current.latch} held term ${current.term}` : 'no term was claimed'}`,
          evidence: { zxid: hex(step.txn.zxid), paths: step.applied.map((a) => a.path) },
        });
      }
      return;
    }
    if (step.sessionClose) return;
    for (const a of step.applied) {
      if (isLeaderOnly(a.path)) {
        this.violations.push({
          invariant: '1',
          check: 'unfenced-leader-write',
          at: step.txn.time,
          message: `${a.kind} of leader-only ${a.path} without a fence`,
          evidence: { zxid: hex(step.txn.zxid), session: step.txn.session },
        });
      }
    }
  }

  private onClaim(step: ReplayStep, node: ReplayNode, tree: TreeReplay): void {
    const doc = jsonOf<{ term?: number; leaderId?: string }>(node);
    const term = doc?.term ?? Number.NaN;
    const previous = this.terms[this.terms.length - 1];
    const at = step.txn.time;
    const evidence = { zxid: hex(step.txn.zxid), term, fence: step.fence ?? null };
    if (!step.fence) {
      this.violations.push({
        invariant: '1',
        check: 'unfenced-term-claim',
        at,
        message: `term ${term} claimed without a fence`,
        evidence,
      });
    } else {
      // The claimer's own latch is still in the tree (the claim does not remove it).
      const lowest = lowestLatch(tree);
      if (lowest !== step.fence) {
        this.violations.push({
          invariant: '1',
          check: 'term-claimed-by-non-lowest-latch',
          at,
          message: `term ${term} claimed by ${step.fence} while the lowest latch was ${lowest ?? 'none'}`,
          evidence,
        });
      }
    }
    if (previous && term !== previous.term + 1) {
      this.violations.push({
        invariant: '1',
        check: 'term-not-incremented',
        at,
        message: `term went from ${previous.term} to ${term}`,
        evidence,
      });
    }
    this.terms.push({
      term,
      leaderId: doc?.leaderId ?? '?',
      latch: step.fence ?? '',
      at,
      zxid: step.txn.zxid,
    });
  }
}

/** The lowest `/leader/latch-N` znode in the tree now. */
export function lowestLatch(tree: TreeReplay): string | undefined {
  let best: string | undefined;
  for (const path of tree.nodes.keys()) {
    if (path.startsWith('/leader/latch-') && (best === undefined || path < best)) best = path;
  }
  return best;
}

/** A zxid as ZooKeeper prints it. */
export function hex(zxid: number): string {
  return `0x${zxid.toString(16)}`;
}
