/**
 * What changes during one cycle: free resources, ports taken, and how many tasks of each deploy
 * and request sit on each host and rack. Starts from the snapshot (running tasks included) and
 * is updated by every placement, so tasks placed earlier in the cycle count for later ones.
 */
import {
  CPUS,
  DISK,
  MEM,
  NO_LIMIT,
  PORTS,
  SLOTS,
  WATCH_HOST,
  WATCH_RACK,
  type EncodedSnapshot,
} from './compact-encoding.js';
import { PairCounter } from './pair-counter.js';

/** Mutable per-cycle state over an immutable {@link EncodedSnapshot}. */
export class MatchState {
  /** SLOTS per offer: what is still free. A private copy; the snapshot may be shared. */
  readonly free: Float64Array;
  /** Tasks per (host id, scope as in taskHostScope). */
  private readonly hostCounts: PairCounter;
  /** Tasks per (rack id, deploy id). */
  private readonly rackCounts: PairCounter;
  /** Ports handed out this cycle, as (offer, port) pairs. */
  private readonly usedPorts: PairCounter;

  /**
   * @param snap the cycle's input
   * @param tasks the tasks that may be placed on this state (default: all of the snapshot's)
   */
  constructor(
    private readonly snap: EncodedSnapshot,
    tasks?: Int32Array,
  ) {
    this.free = snap.offerFree.slice();
    // Sized for the tasks that a rule counts, all placed, so that the tables rarely grow
    // mid-cycle (each doubling rehashes every pair), yet stay small enough to cache well: a
    // pool shard sizes them for its own tasks.
    let ports = 0;
    let hostScoped = 0;
    let rackScoped = 0;
    const count = tasks ? tasks.length : snap.taskCount;
    for (let i = 0; i < count; i++) {
      const t = tasks ? tasks[i]! : i;
      ports += snap.taskNeed[t * SLOTS + PORTS]!;
      if (snap.taskHostScope[t]! >= 0) hostScoped++;
      if (snap.taskRackLimit[t] !== NO_LIMIT) rackScoped++;
    }
    const running = snap.runDeploy.length;
    this.usedPorts = new PairCounter(ports);
    this.hostCounts = new PairCounter(running + hostScoped);
    this.rackCounts = new PairCounter(running + rackScoped);
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
    if ((watch & WATCH_HOST) !== 0) this.hostCounts.increment(snap.offerHost[o]!, deploy);
    if ((watch & WATCH_RACK) !== 0) this.rackCounts.increment(snap.offerRack[o]!, deploy);
    if (snap.watchedRequest[request] === 1) {
      this.hostCounts.increment(snap.offerHost[o]!, snap.deployCount + request);
    }
  }

  /** Tasks of `scope` on the host of offer `o`. */
  onHost(scope: number, o: number): number {
    return this.hostCounts.get(this.snap.offerHost[o]!, scope);
  }

  /** Tasks of `deploy` on the rack of offer `o`. */
  onRack(deploy: number, o: number): number {
    return this.rackCounts.get(this.snap.offerRack[o]!, deploy);
  }

  /** Whether `port` was already handed out from offer `o` this cycle. */
  isPortUsed(o: number, port: number): boolean {
    return this.usedPorts.get(o, port) !== 0;
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
    for (let i = from; i < from + n; i++) this.usedPorts.increment(o, ports[i]!);
    this.count(this.snap.taskDeploy[t]!, this.snap.taskRequest[t]!, o);
  }
}
