import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the lb-agent counts, for `/metrics`. */
export interface LbAgentMetrics {
  /** A batch was applied: its outcome, duration, and the applier's totals after it. */
  batchApplied(
    ok: boolean,
    seconds: number,
    totals: { reloads: number; memberUpdates: number; services: number },
  ): void;
  /** Services rewritten because the disk differed from what was acked. */
  driftRepaired(services: number): void;
  connected(up: boolean): void;
}

/** Registers the lb-agent's metrics in `registry`. */
export function makeLbAgentMetrics(registry: Registry): LbAgentMetrics {
  const registers = [registry];
  const reloads = new Counter({
    name: 'thales_lb_agent_reloads_total',
    help: 'nginx reloads',
    registers,
  });
  const memberUpdates = new Counter({
    name: 'thales_lb_agent_member_updates_total',
    help: 'Services whose upstream members changed without a reload (Lua balancer)',
    registers,
  });
  const batches = new Counter({
    name: 'thales_lb_agent_batches_total',
    help: 'Batches applied',
    labelNames: ['result'],
    registers,
  });
  const batchSeconds = new Histogram({
    name: 'thales_lb_agent_batch_seconds',
    help: 'From the start of a batch to its services being written, validated and served',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const drift = new Counter({
    name: 'thales_lb_agent_drift_repairs_total',
    help: 'Services rewritten because the disk differed from what was acked',
    registers,
  });
  const connected = new Gauge({
    name: 'thales_lb_agent_connected',
    help: '1 while the stream to the leader is up',
    registers,
  });
  const services = new Gauge({
    name: 'thales_lb_agent_services',
    help: 'Services applied',
    registers,
  });
  // The applier counts reloads and member updates itself; the counters follow its totals.
  let reloadsSeen = 0;
  let memberUpdatesSeen = 0;
  return {
    batchApplied(ok, seconds, totals) {
      batches.inc({ result: ok ? 'ok' : 'partial' });
      batchSeconds.observe(seconds);
      services.set(totals.services);
      reloads.inc(totals.reloads - reloadsSeen);
      reloadsSeen = totals.reloads;
      memberUpdates.inc(totals.memberUpdates - memberUpdatesSeen);
      memberUpdatesSeen = totals.memberUpdates;
    },
    driftRepaired: (n) => drift.inc(n),
    connected: (up) => connected.set(up ? 1 : 0),
  };
}
