import { Counter, Gauge, type Registry } from 'prom-client';

/** The agent's Prometheus metrics. */
export type AgentMetrics = ReturnType<typeof makeAgentMetrics>;

/** Registers the agent's metrics in `registry`. */
export function makeAgentMetrics(registry: Registry) {
  const registers = [registry];
  return {
    tasksRunning: new Gauge({
      name: 'thales_agent_tasks_running',
      help: 'Tasks running',
      registers,
    }),
    launches: new Counter({
      name: 'thales_agent_launches_total',
      help: 'Launch messages',
      registers,
    }),
    kills: new Counter({ name: 'thales_agent_kills_total', help: 'Kill messages', registers }),
    updatesPending: new Gauge({
      name: 'thales_agent_status_updates_pending',
      help: 'Status updates in the outbox, not yet acknowledged',
      registers,
    }),
    updatesSent: new Counter({
      name: 'thales_agent_status_updates_sent_total',
      help: 'Status updates written to a leader stream (resends included)',
      registers,
    }),
    updatesAcked: new Counter({
      name: 'thales_agent_status_updates_acked_total',
      help: 'Status updates acknowledged and removed from the outbox',
      registers,
    }),
    reconnects: new Counter({
      name: 'thales_agent_reconnects_total',
      help: 'Leader streams that ended and were retried',
      registers,
    }),
    refusedTerm: new Counter({
      name: 'thales_agent_refused_term_total',
      help: 'Leader messages refused because their term was older than the highest seen',
      registers,
    }),
    healthChecks: new Counter({
      name: 'thales_agent_health_checks_total',
      help: 'Health checks run, by result (passed, failed)',
      labelNames: ['result'] as const,
      registers,
    }),
    healthReports: new Counter({
      name: 'thales_agent_health_reports_total',
      help: 'Health results put in the outbox, by the health they report',
      labelNames: ['health'] as const,
      registers,
    }),
    connected: new Gauge({
      name: 'thales_agent_connected',
      help: '1 while registered with a leader',
      registers,
    }),
  };
}
