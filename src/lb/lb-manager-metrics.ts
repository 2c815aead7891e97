import { Counter, Histogram, type Registry } from 'prom-client';

/** The manager's Prometheus metrics. */
export interface LbManagerMetrics {
  finished: Counter;
  latency: Histogram;
}

/** Registers the manager's metrics in `registry`. */
export function makeLbManagerMetrics(registry: Registry): LbManagerMetrics {
  return {
    finished: new Counter({
      name: 'thales_lb_requests_finished_total',
      help: 'Load-balancer requests finished by this leader, by final state',
      labelNames: ['state'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'thales_lb_request_apply_seconds',
      help: 'From the leader starting a request to its final state',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}
