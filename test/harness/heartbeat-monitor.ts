import { watchNode, type Coordinator } from '../../src/coordination/index.js';

/** A leader write that landed out of order: an older term after a newer one, or a term shared. */
export interface HeartbeatViolation {
  kind: 'term went back' | 'term shared by two leaders';
  seen: { term: number; leaderId: string };
  after: { term: number; leaderId: string };
}

/**
 * Watches `/leader/heartbeat` (the leader loops' fenced write) from an independent session and
 * records any write that could only come from a deposed leader (DESIGN.md invariant 1): a term
 * lower than one already seen, or one term written by two different replicas.
 */
export class HeartbeatMonitor {
  private readonly found: HeartbeatViolation[] = [];
  private readonly leaderOfTerm = new Map<number, string>();
  private highest: { term: number; leaderId: string } | undefined;
  private readonly unwatch: () => void;
  /** Every distinct (term, leaderId) seen, in order. */
  readonly history: { term: number; leaderId: string }[] = [];

  constructor(zk: Coordinator) {
    this.unwatch = watchNode(zk, '/leader/heartbeat', (node) => {
      if (!node) return;
      const doc = JSON.parse(node.data.toString()) as { term: number; leaderId?: string };
      this.record({ term: doc.term, leaderId: doc.leaderId ?? '(no leaderId)' });
    });
  }

  /** Violations seen so far. */
  get violations(): readonly HeartbeatViolation[] {
    return this.found;
  }

  /** Stops watching. */
  stop(): void {
    this.unwatch();
  }

  private record(seen: { term: number; leaderId: string }): void {
    const last = this.history[this.history.length - 1];
    if (!last || last.term !== seen.term || last.leaderId !== seen.leaderId)
      this.history.push(seen);
    const owner = this.leaderOfTerm.get(seen.term);
    if (owner !== undefined && owner !== seen.leaderId) {
      this.found.push({
        kind: 'term shared by two leaders',
        seen,
        after: { term: seen.term, leaderId: owner },
      });
    }
    if (owner === undefined) this.leaderOfTerm.set(seen.term, seen.leaderId);
    if (this.highest && seen.term < this.highest.term) {
      this.found.push({ kind: 'term went back', seen, after: this.highest });
    }
    if (!this.highest || seen.term > this.highest.term) this.highest = seen;
  }
}
