import { Counter, Gauge, Registry } from 'prom-client';
import type { CleanupSummary } from './cleanup-runner.js';

/** The cleaner's Prometheus metrics, fed from each run's summary. */
export interface CleanupMetrics {
  registry: Registry;
  /** Adds one run's summary to the metrics. */
  record(summary: CleanupSummary): void;
}

/**
 * Registers the cleaner's metrics in a registry of its own (the cleaner is a short-lived
 * process in --once mode, so no process metrics: they would describe a process that is gone).
 */
export function makeCleanupMetrics(): CleanupMetrics {
  const registry = new Registry();
  const registers = [registry];
  const runs = new Counter({
    name: 'thales_executor_cleanup_runs_total',
    help: 'Cleanup runs, by result (ok, safe_mode, dry_run)',
    labelNames: ['result'],
    registers,
  });
  const killed = new Counter({
    name: 'thales_executor_cleanup_processes_killed_total',
    help: 'Processes of tasks no longer active that were killed',
    registers,
  });
  const compressed = new Counter({
    name: 'thales_executor_cleanup_bytes_compressed_total',
    help: 'Bytes of logs compressed (before compression)',
    registers,
  });
  const deleted = new Counter({
    name: 'thales_executor_cleanup_sandboxes_deleted_total',
    help: 'Sandboxes deleted after their retention',
    registers,
  });
  const errors = new Counter({
    name: 'thales_executor_cleanup_errors_total',
    help: 'Cleanup actions that failed',
    registers,
  });
  const last = {
    examined: gauge(registry, 'tasks_examined', 'Sandboxes examined by the last run'),
    active: gauge(registry, 'tasks_active', 'Sandboxes of tasks the cluster reported active'),
    skipped: gauge(registry, 'sandboxes_skipped', 'Sandboxes the last run left alone (not active)'),
    safe: gauge(registry, 'safe_mode', '1 if the last run was in safe mode'),
    duration: gauge(registry, 'last_run_duration_seconds', 'Duration of the last run'),
    at: gauge(registry, 'last_run_timestamp_seconds', 'End of the last run (Unix time)'),
  };
  return {
    registry,
    record(s) {
      runs.inc({ result: s.safeMode ? 'safe_mode' : s.dryRun ? 'dry_run' : 'ok' });
      killed.inc(s.processesKilled);
      compressed.inc(s.bytesCompressed);
      deleted.inc(s.sandboxesDeleted);
      errors.inc(s.errors.length);
      last.examined.set(s.tasksExamined);
      last.active.set(s.activeTasks);
      last.skipped.set(s.skipped.length);
      last.safe.set(s.safeMode ? 1 : 0);
      last.duration.set(s.durationMs / 1000);
      last.at.set(Date.now() / 1000);
    },
  };
}

function gauge(registry: Registry, name: string, help: string): Gauge {
  return new Gauge({ name: `thales_executor_cleanup_${name}`, help, registers: [registry] });
}
