/**
 * Splits one cycle across pool workers so that no two workers can hand out the same resources:
 * every offer belongs to exactly one shard, and a host (and, when there are enough racks, a
 * whole rack) never straddles two shards. Host rules then only ever count tasks of the shard
 * that owns the host, and with rack-sized units the rack rule is shard-local too, so worker
 * results rarely conflict. The pool driver still re-checks every proposal against the global
 * state; this plan only makes conflicts rare, it is not what makes them impossible.
 */
import { CPUS, MEM, SLOTS, type EncodedSnapshot } from './compact-encoding.js';

/** Offer and task indices per shard; tasks keep the global matching order. */
export interface ShardPlan {
  readonly offers: Int32Array[];
  readonly tasks: Int32Array[];
}

/** Groups usable offers into units (racks, or hosts when racks are too few to balance). */
function groupUnits(snap: EncodedSnapshot, shardCount: number): Map<number, number[]> {
  const byRack = snap.rackCount >= 2 * shardCount;
  const units = new Map<number, number[]>();
  for (let o = 0; o < snap.offerCount; o++) {
    if (snap.offerUsable[o] === 0) continue; // takes nothing; the explain pass still sees it
    const unit = byRack ? snap.offerRack[o]! : snap.offerHost[o]!;
    const list = units.get(unit);
    if (list) list.push(o);
    else units.set(unit, [o]);
  }
  return units;
}

/** Capacity of an offer for balancing: normalised cpus plus normalised memory. */
function capacityOf(snap: EncodedSnapshot, o: number): number {
  const cpus = snap.norm[0]! > 0 ? snap.offerFree[o * SLOTS + CPUS]! / snap.norm[0]! : 0;
  const mem = snap.norm[1]! > 0 ? snap.offerFree[o * SLOTS + MEM]! / snap.norm[1]! : 0;
  return cpus + mem;
}

/**
 * Plans `shardCount` shards: units go largest first to the emptiest shard (LPT), then tasks
 * are dealt in matching order to the shard with the lowest tasks-per-capacity, so each shard
 * gets work in proportion to its room and every deploy is spread over all shards.
 */
export function planShards(snap: EncodedSnapshot, shardCount: number): ShardPlan {
  const units = [...groupUnits(snap, shardCount).entries()].map(([id, offers]) => ({
    id,
    offers,
    capacity: offers.reduce((sum, o) => sum + capacityOf(snap, o), 0),
  }));
  units.sort((a, b) => b.capacity - a.capacity || a.id - b.id);
  const capacity = new Float64Array(shardCount);
  const offers: number[][] = Array.from({ length: shardCount }, () => []);
  for (const unit of units) {
    let s = 0;
    for (let i = 1; i < shardCount; i++) if (capacity[i]! < capacity[s]!) s = i;
    capacity[s] = capacity[s]! + unit.capacity;
    offers[s]!.push(...unit.offers);
  }
  return {
    offers: offers.map((list) => Int32Array.from(list.sort((a, b) => a - b))),
    tasks: dealTasks(snap.taskOrder, capacity),
  };
}

/**
 * Deals the tasks, in matching order, each to the shard with the lowest tasks-per-capacity
 * after taking it. Counts first, then typed arrays of the exact size: growing JS arrays to
 * 10^5 elements was most of the planner's time and garbage on the serial path.
 */
function dealTasks(order: Int32Array, capacity: Float64Array): Int32Array[] {
  const shardCount = capacity.length;
  const counts = new Int32Array(shardCount);
  const shardOf = new Int32Array(order.length);
  for (let k = 0; k < order.length; k++) {
    let s = 0;
    let best = Infinity;
    for (let i = 0; i < shardCount; i++) {
      const load = (counts[i]! + 1) / Math.max(capacity[i]!, 1e-9);
      if (load < best) {
        best = load;
        s = i;
      }
    }
    counts[s]!++;
    shardOf[k] = s;
  }
  const tasks = Array.from(counts, (n) => new Int32Array(n));
  const filled = new Int32Array(shardCount);
  for (let k = 0; k < order.length; k++) {
    const s = shardOf[k]!;
    tasks[s]![filled[s]!++] = order[k]!;
  }
  return tasks;
}
