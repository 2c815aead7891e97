import { Registry, collectDefaultMetrics } from 'prom-client';

/** A Prometheus registry with the process metrics and a `role` label on everything. */
export function makeRegistry(labels: Record<string, string>): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry, prefix: 'thales_' });
  return registry;
}
