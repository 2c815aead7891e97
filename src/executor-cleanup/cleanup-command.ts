import { mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Logger } from 'pino';
import { type Daemon, startDaemon } from '../daemon/index.js';
import { writeFileAtomic } from '../runtime/index.js';
import { type CleanupConfig, parseCleanupArgs } from './cleanup-config.js';
import { type CleanupMetrics, makeCleanupMetrics } from './cleanup-metrics.js';
import { type CleanupSummary, runCleanup } from './cleanup-runner.js';

/** File names written in --summary-dir. */
export const SUMMARY_FILE = 'last-run.json';
/** The textfile-collector file written next to the summary in --once mode. */
export const PROM_FILE = 'executor-cleanup.prom';

/**
 * `thales executor-cleanup`: one run (`--once`) or a run every `--interval`, each writing its
 * JSON summary; metrics go to a textfile-collector file (--once) or `/metrics` on
 * --metrics-port (loop). Logs (pino) go to stderr; stdout carries the plan of a dry run and
 * the summary of a --once run.
 */
export async function runExecutorCleanup(argv: string[]): Promise<void> {
  const config = parseCleanupArgs(argv);
  const metrics = makeCleanupMetrics();
  const daemon = startDaemon({
    logBindings: { component: 'executor-cleanup' },
    logDestination: 'stderr',
    metrics: { registry: metrics.registry },
  });
  mkdirSync(config.summaryDir, { recursive: true });
  if (config.intervalMs === undefined) {
    const summary = await runOnce(config, daemon.logger, metrics);
    writeFileAtomic(path.join(config.summaryDir, PROM_FILE), await metrics.registry.metrics());
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  await runLoop(config, config.intervalMs, daemon, metrics);
}

async function runOnce(
  config: CleanupConfig,
  logger: Logger,
  metrics: CleanupMetrics,
): Promise<CleanupSummary> {
  const summary = await runCleanup({ ...config, logger });
  metrics.record(summary);
  writeFileAtomic(
    path.join(config.summaryDir, SUMMARY_FILE),
    `${JSON.stringify(summary, null, 2)}\n`,
  );
  if (config.dryRun) printPlan(summary);
  return summary;
}

/** What a dry run would do, one line per action. */
function printPlan(summary: CleanupSummary): void {
  const lines: string[] = [];
  if (summary.safeMode) lines.push(`safe mode: ${summary.safeMode}`);
  for (const a of summary.planned ?? []) {
    const what =
      a.kind === 'kill'
        ? `kill ${a.processes.map((p) => `${p.pid}(${p.via})`).join(' ')}`
        : a.kind === 'compress'
          ? `compress ${a.files.join(' ')}`
          : 'delete sandbox';
    lines.push(`would ${what} of ${a.taskId}: ${a.reason}`);
  }
  for (const s of summary.skipped) lines.push(`skip ${s.taskId}: ${s.reason}`);
  process.stdout.write(lines.map((l) => `${l}\n`).join(''));
}

async function runLoop(
  config: CleanupConfig,
  intervalMs: number,
  daemon: Daemon,
  metrics: CleanupMetrics,
): Promise<void> {
  const { logger } = daemon;
  const server = config.metricsPort === undefined ? undefined : await serveMetrics(config, metrics);
  let stopping = false;
  let wake: (() => void) | undefined;
  // A signal ends the loop after the run in progress; the process then exits by itself.
  daemon.stopOnSignal(
    () => {
      stopping = true;
      wake?.();
    },
    { exit: false },
  );
  while (!stopping) {
    try {
      await runOnce(config, logger, metrics);
    } catch (err) {
      logger.error({ err: String(err) }, 'cleanup run failed');
    }
    if (stopping) break;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, intervalMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  logger.info('stopped');
}

function serveMetrics(config: CleanupConfig, metrics: CleanupMetrics): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.metricsPort, config.metricsHost, () => resolve(server));
  });
}
