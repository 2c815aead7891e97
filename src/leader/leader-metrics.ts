import { Counter, Gauge, type Registry } from 'prom-client';
import type { Coordinator } from '../coordination/index.js';

/** Prometheus metrics of leadership and the ZooKeeper connection. */
export interface LeaderMetrics {
  isLeader: Gauge;
  term: Gauge;
  transitions: Counter<'to'>;
  fencedWrites: Counter<'result'>;
}

const CONNECTION_STATES = ['connecting', 'connected', 'disconnected', 'closed'] as const;

/** Registers the leadership metrics, and a gauge of the connection state read on scrape. */
export function makeLeaderMetrics(registry: Registry, zk: Coordinator): LeaderMetrics {
  new Gauge({
    name: 'thales_zookeeper_connection_state',
    help: '1 for the current ZooKeeper connection state, 0 for the others',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      for (const s of CONNECTION_STATES) this.set({ state: s }, zk.state === s ? 1 : 0);
    },
  });
  return {
    isLeader: new Gauge({
      name: 'thales_leader',
      help: '1 while this replica leads with its loops on, else 0',
      registers: [registry],
    }),
    term: new Gauge({
      name: 'thales_leader_term',
      help: 'The term this replica last led in, or last saw',
      registers: [registry],
    }),
    transitions: new Counter({
      name: 'thales_leadership_transitions_total',
      help: 'Leadership transitions of this replica, by the role it moved to',
      labelNames: ['to'],
      registers: [registry],
    }),
    fencedWrites: new Counter({
      name: 'thales_fenced_writes_total',
      help: 'Leader writes through the fenced path, by outcome (fenced = rejected by ZooKeeper)',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}
