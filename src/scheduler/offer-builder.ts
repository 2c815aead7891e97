/**
 * Pure: the free resources of each usable agent as one offer (Mesos semantics), computed from
 * what it registered minus every active task placed on it (including launches not yet
 * acknowledged), so an agent is never offered what it has already given (invariant 4).
 */
import type { Offer, PortRange } from '../offers/index.js';
import { DEFAULT_RACK, type AgentRecord, type Task } from '../state/index.js';

/** An agent as offers see it. */
export interface OfferAgent {
  record: AgentRecord;
  /** Connected to this leader now. */
  connected: boolean;
}

/** Offers from every connected ACTIVE agent; `tasks` are all active tasks. */
export function buildOffers(agents: Iterable<OfferAgent>, tasks: Iterable<Task>): Offer[] {
  const byAgent = new Map<string, Task[]>();
  for (const t of tasks) {
    const list = byAgent.get(t.agentId);
    if (list) list.push(t);
    else byAgent.set(t.agentId, [t]);
  }
  const offers: Offer[] = [];
  for (const { record: a, connected } of agents) {
    if (!connected || a.state !== 'ACTIVE' || a.lostAt) continue;
    const used = byAgent.get(a.agentId) ?? [];
    let cpus = a.resources.cpus;
    let memoryMb = a.resources.memoryMb;
    let diskMb = a.resources.diskMb;
    const ports: number[] = [];
    for (const t of used) {
      cpus -= t.resources.cpus;
      memoryMb -= t.resources.memoryMb;
      diskMb -= t.resources.diskMb;
      ports.push(...t.ports);
    }
    offers.push({
      agentId: a.agentId,
      host: a.host || a.agentId,
      rack: a.rack || DEFAULT_RACK,
      attributes: a.attributes,
      cpus: Math.max(0, round(cpus)),
      memoryMb: Math.max(0, round(memoryMb)),
      diskMb: Math.max(0, round(diskMb)),
      ports: freePortRanges(a.portRanges, ports),
      runningTasks: used.map((t) => ({ requestId: t.requestId, deployId: t.deployId })),
    });
  }
  return offers;
}

/** Floating point sums of fractions (0.1 cpus…) would leave 0.30000000000000004 free. */
function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** `ranges` minus `used` ports, as sorted disjoint inclusive ranges. */
export function freePortRanges(ranges: readonly PortRange[], used: readonly number[]): PortRange[] {
  const taken = [...new Set(used)].sort((a, b) => a - b);
  const out: PortRange[] = [];
  for (const r of ranges) {
    let begin = r.begin;
    for (const p of taken) {
      if (p < begin || p > r.end) continue;
      if (p > begin) out.push({ begin, end: p - 1 });
      begin = p + 1;
    }
    if (begin <= r.end) out.push({ begin, end: r.end });
  }
  return out;
}
