import path from 'node:path';
import { parseArgs } from 'node:util';
import type { PlanPolicy } from './cleanup-plan.js';

/** Usage of `thales executor-cleanup`. */
export const EXECUTOR_CLEANUP_USAGE = `executor-cleanup  remove what finished tasks left on this agent (flags: --work-dir,
              --scheduler http://host:port[,…], --once | --interval 5m, --retention 24h,
              --failed-retention 7d, --launch-grace 2m, --kill-grace 10s, --dry-run,
              --metrics-port, --summary-dir)`;

/** A bad flag; names it. */
export class CleanupConfigError extends Error {
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(`--${flag}: ${message}`);
    this.name = 'CleanupConfigError';
  }
}

/** The validated flags of `thales executor-cleanup`. */
export interface CleanupConfig {
  workDir: string;
  schedulers: string[];
  /** undefined = run once and exit. */
  intervalMs: number | undefined;
  policy: PlanPolicy;
  killGraceMs: number;
  requestTimeoutMs: number;
  dryRun: boolean;
  metricsPort: number | undefined;
  metricsHost: string;
  summaryDir: string;
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `30s`, `10m`, `24h`, `7d` (a bare number is seconds). */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m)
    throw new CleanupConfigError(flag, `'${text}' is not a duration (e.g. 30s, 10m, 24h, 7d)`);
  return Math.round(Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 1_000));
}

/** Turns `host:port` or `http://host:port` into a base URL. */
export function toSchedulerUrl(entry: string): string {
  const e = entry.trim().replace(/\/+$/, '');
  return /^https?:\/\//.test(e) ? e : `http://${e}`;
}

/** Parses and validates the flags (pure). */
export function parseCleanupArgs(argv: string[]): CleanupConfig {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        'work-dir': { type: 'string' },
        scheduler: { type: 'string' },
        once: { type: 'boolean', default: false },
        interval: { type: 'string' },
        retention: { type: 'string', default: '24h' },
        'failed-retention': { type: 'string', default: '7d' },
        'launch-grace': { type: 'string', default: '2m' },
        'kill-grace': { type: 'string', default: '10s' },
        'request-timeout': { type: 'string', default: '5s' },
        'dry-run': { type: 'boolean', default: false },
        'metrics-port': { type: 'string' },
        'metrics-host': { type: 'string', default: '127.0.0.1' },
        'summary-dir': { type: 'string' },
      },
    }));
  } catch (err) {
    throw new CleanupConfigError('flags', (err as Error).message);
  }
  const workDir = values['work-dir'];
  if (!workDir) throw new CleanupConfigError('work-dir', 'is required');
  const schedulers = (values.scheduler ?? '').split(',').filter((s) => s.trim() !== '');
  if (schedulers.length === 0)
    throw new CleanupConfigError('scheduler', 'is required: http://host:port[,…] of the replicas');
  if (values.once && values.interval !== undefined)
    throw new CleanupConfigError('interval', 'cannot be combined with --once');
  const intervalMs = values.once ? undefined : parseDuration(values.interval ?? '5m', 'interval');
  if (intervalMs !== undefined && intervalMs < 1_000)
    throw new CleanupConfigError('interval', 'must be at least 1s');
  return {
    workDir: path.resolve(workDir),
    schedulers: schedulers.map(toSchedulerUrl),
    intervalMs,
    policy: {
      retentionMs: parseDuration(values.retention, 'retention'),
      failedRetentionMs: parseDuration(values['failed-retention'], 'failed-retention'),
      launchGraceMs: parseDuration(values['launch-grace'], 'launch-grace'),
    },
    killGraceMs: parseDuration(values['kill-grace'], 'kill-grace'),
    requestTimeoutMs: Math.max(100, parseDuration(values['request-timeout'], 'request-timeout')),
    dryRun: values['dry-run'],
    metricsPort: parsePort(values['metrics-port']),
    metricsHost: values['metrics-host'],
    summaryDir: path.resolve(values['summary-dir'] ?? path.join(workDir, 'executor-cleanup')),
  };
}

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new CleanupConfigError('metrics-port', `'${text}' is not a port`);
  return n;
}
