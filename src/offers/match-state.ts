/**
 * What changes during one cycle: free resources, ports taken, and how many tasks of each deploy
 * and request sit on each host and rack. Starts from the snapshot (running tasks included) and
 * is updated by every placement, so tasks placed earlier in the cycle count for later ones.
 */
import {
  CPUS,
  DISK,
  MEM,
  PORTS,
  SLOTS,
  WATCH_HOST,
  WATCH_RACK,
  type EncodedSnapshot,
} from './compact-encoding.js';

function bump(maps: (Map<number, number> | undefined)[], at: number, key: number): void {
  let m = maps[at];
  if (!m) {
    m = new Map<number, number>();
    maps[at] = m;
  }
  m.set(key, (m.get(key) ?? 0) + 1);
}

/** Mutable per-cycle state over an immutable {@link EncodedSnapshot}. */
export class MatchState {
  /** SLOTS per offer: what is still free. A private copy; the snapshot may be shared. */
  readonly free: Float64Array;
  /** Tasks per scope on each host (index: host id; key: scope as in taskHostScope). */
  private readonly hostCounts: (Map<number, number> | undefined)[];
  /** Tasks per deploy on each rack (index: rack id; key: deploy id). */
  private readonly rackCounts: (Map<number, number> | undefined)[];
  /** Ports handed out this cycle, per offer; allocated lazily. */
  private readonly usedPorts: (Set<number> | undefined)[];

  /** @param snap the cycle's input */
  constructor(private readonly snap: EncodedSnapshot) {
    this.free = snap.offerFree.slice();
    this.usedPorts = new Array<Set<number> | undefined>(snap.offerCount);
    // One small map per host and rack keyed by a dense id: small-integer keys hash fast,
    // where one map keyed by scope * hostCount + host would need heap numbers past 2^30.
    this.hostCounts = new Array<Map<number, number> | undefined>(snap.hostCount);
    this.rackCounts = new Array<Map<number, number> | undefined>(snap.rackCount);
    for (let o = 0; o < snap.offerCount; o++) {
      for (let j = snap.runStart[o]!; j < snap.runStart[o + 1]!; j++) {
        this.count(snap.runDeploy[j]!, snap.runRequest[j]!, o);
      }
    }
  }

  /**
   * Counts one more task of `deploy` / `request` on offer o's host and rack. Only scopes some
   * pending task's rule looks at are counted (snap.watched*): the others are never read.
   */
  private count(deploy: number, request: number, o: number): void {
    const { snap } = this;
    const watch = snap.watchedDeploy[deploy]!;
    if ((watch & WATCH_HOST) !== 0) bump(this.hostCounts, snap.offerHost[o]!, deploy);
    if ((watch & WATCH_RACK) !== 0) bump(this.rackCounts, snap.offerRack[o]!, deploy);
    if (snap.watchedRequest[request] === 1) {
      bump(this.hostCounts, snap.offerHost[o]!, snap.deployCount + request);
    }
  }

  /** Tasks of `scope` on the host of offer `o`. */
  onHost(scope: number, o: number): number {
    return this.hostCounts[this.snap.offerHost[o]!]?.get(scope) ?? 0;
  }

  /** Tasks of `deploy` on the rack of offer `o`. */
  onRack(deploy: number, o: number): number {
    return this.rackCounts[this.snap.offerRack[o]!]?.get(deploy) ?? 0;
  }

  /** Whether `port` was already handed out from offer `o` this cycle. */
  isPortUsed(o: number, port: number): boolean {
    return this.usedPorts[o]?.has(port) ?? false;
  }

  /**
   * Records task `t` on offer `o` with ports[from .. from + n) (default: all of `ports`); the
   * caller has checked feasibility. The range form lets the verifier commit straight from a
   * worker's flat proposal buffer, without a view per proposal.
   */
  commit(t: number, o: number, ports: ArrayLike<number>, from = 0, n = ports.length): void {
    const need = this.snap.taskNeed;
    const base = o * SLOTS;
    this.free[base + CPUS] = this.free[base + CPUS]! - need[t * SLOTS + CPUS]!;
    this.free[base + MEM] = this.free[base + MEM]! - need[t * SLOTS + MEM]!;
    this.free[base + DISK] = this.free[base + DISK]! - need[t * SLOTS + DISK]!;
    this.free[base + PORTS] = this.free[base + PORTS]! - n;
    if (n > 0) {
      const used = this.usedPorts[o] ?? new Set<number>();
      this.usedPorts[o] = used;
      for (let i = from; i < from + n; i++) used.add(ports[i]!);
    }
    this.count(this.snap.taskDeploy[t]!, this.snap.taskRequest[t]!, o);
  }
}
