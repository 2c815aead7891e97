import type { ClusterStateView } from '../../src/api/index.js';
import type { LocalReplica } from '../../src/dev/index.js';
import { fetchJson } from '../../src/dev/wait-for.js';

/** A moment where two replicas claimed to lead in the same term. */
export interface SplitBrainViolation {
  term: number;
  replicaIds: string[];
  /** When the second claimant was seen (ms since the epoch). */
  at: number;
}

/**
 * Polls every replica's `/api/state` in the background and records any term claimed by two
 * different replicas as LEADER (DESIGN.md invariant 1: a term is one leadership). A term is
 * remembered across polls, so two leaders of one term are caught even if never seen at once.
 */
export class SplitBrainPoller {
  private readonly claims = new Map<number, Set<string>>();
  private readonly found: SplitBrainViolation[] = [];
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private stopped = false;
  /**
   * Rounds in which every running replica answered its state: only these prove the poller
   * watched the whole cluster (a round where a fetch failed saw part of it, or nothing). A
   * SIGSTOPped replica counts as running, so no round completes while one is paused.
   */
  completeRounds = 0;
  /** Every round started, complete or not (for failure messages). */
  attemptedRounds = 0;

  constructor(
    private readonly replicas: LocalReplica[],
    private readonly intervalMs = 100,
  ) {}

  /** Starts polling. */
  start(): void {
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
  }

  /** Stops polling. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** Violations seen so far. */
  get violations(): readonly SplitBrainViolation[] {
    return this.found;
  }

  /** Every term some replica reported leading in, with who claimed it. */
  get terms(): Map<number, string[]> {
    return new Map([...this.claims].map(([t, ids]) => [t, [...ids]]));
  }

  /** Records one state (also used by tests that fetch states themselves). */
  record(state: ClusterStateView): void {
    if (state.role !== 'LEADER') return;
    const ids = this.claims.get(state.term) ?? new Set<string>();
    ids.add(state.replicaId);
    this.claims.set(state.term, ids);
    if (ids.size > 1) {
      this.found.push({ term: state.term, replicaIds: [...ids], at: Date.now() });
    }
  }

  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      // A SIGSTOPped replica does not answer: a short timeout keeps the others polled.
      const live = this.replicas.filter((r) => r.process.running);
      const states = await Promise.all(
        live.map((r) => fetchJson<ClusterStateView>(`${r.url}/api/state`, 400)),
      );
      if (this.stopped) return;
      this.attemptedRounds++;
      for (const s of states) if (s) this.record(s);
      if (live.length > 0 && states.every((s) => s !== undefined)) this.completeRounds++;
    } finally {
      this.polling = false;
    }
  }
}
