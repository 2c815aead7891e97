import { Counter, Histogram, type Registry } from 'prom-client';
import type { CycleTimings } from '../offers/index.js';

/** Prometheus metrics of the leader's placement cycles. */
export interface SchedulerMetrics {
  /** Seconds per matching cycle, by path (pool, inline) and phase (see recordMatch). */
  matchSeconds: Histogram<'path' | 'phase'>;
  /** Instances placed and left pending by the matcher. */
  matched: Counter<'outcome'>;
  /** Znodes the leader read and could not decode (skipped), by kind. */
  decodeErrors: Counter<'kind'>;
  /** Scheduling cycles, by scope (`all` requests or `changed` ones only). */
  cycles: Counter<'scope'>;
  /** Requests planned by cycles (an idle cycle plans none). */
  plannedRequests: Counter;
}

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Registers the scheduler's metrics on `registry`. */
export function makeSchedulerMetrics(registry: Registry): SchedulerMetrics {
  return {
    matchSeconds: new Histogram({
      name: 'thales_offer_match_seconds',
      help:
        'Offer matching per cycle, by path (pool or inline) and phase: total; for the pool also ' +
        'serial (encoding and settling on the leader thread) and workers (waiting for shards)',
      labelNames: ['path', 'phase'],
      buckets: BUCKETS,
      registers: [registry],
    }),
    matched: new Counter({
      name: 'thales_offer_match_tasks_total',
      help: 'Pending instances the matcher placed or left pending, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    decodeErrors: new Counter({
      name: 'thales_scheduler_decode_errors_total',
      help: 'Znodes the leader read and skipped because they do not decode, by kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
    cycles: new Counter({
      name: 'thales_scheduler_cycles_total',
      help: 'Scheduling cycles run, by scope: all requests, or only the changed ones',
      labelNames: ['scope'],
      registers: [registry],
    }),
    plannedRequests: new Counter({
      name: 'thales_scheduler_planned_requests_total',
      help: 'Requests planned by scheduling cycles (a cycle plans only what changed)',
      registers: [registry],
    }),
  };
}

/**
 * Records one matching cycle: its total time, and for a pooled cycle the split between the
 * leader thread's serial part and the wait for the workers.
 */
export function recordMatch(
  m: SchedulerMetrics,
  totalMs: number,
  pooled: CycleTimings | undefined,
  placed: number,
  unplaced: number,
): void {
  const path = pooled ? 'pool' : 'inline';
  m.matchSeconds.observe({ path, phase: 'total' }, totalMs / 1000);
  if (pooled) {
    m.matchSeconds.observe({ path, phase: 'serial' }, pooled.serialMs / 1000);
    m.matchSeconds.observe({ path, phase: 'workers' }, pooled.matchMs / 1000);
  }
  m.matched.inc({ outcome: 'placed' }, placed);
  m.matched.inc({ outcome: 'pending' }, unplaced);
}
