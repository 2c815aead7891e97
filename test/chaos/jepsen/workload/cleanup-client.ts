/**
 * Runs `thales executor-cleanup --once` on each agent's work dir during the run, with short
 * retention and launch grace so it really deletes and kills (invariant 6: never the sandbox of
 * a task the cluster reports active). Each run is an operation recording the sandboxes present
 * before and after it, and what its summary says it deleted and killed.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { thalesCliPath } from '../../../../src/dev/index.js';
import type { Rng } from '../rng.js';
import type { WorkloadContext } from './context.js';

/** What a cleanup operation records. */
export interface CleanupResult {
  agentId: string;
  /** Sandboxes before the command started and after it exited. */
  before: string[];
  after: string[];
  /**
   * When the run itself scanned and acted (its summary's startedAt and duration): on a loaded
   * machine the command can take far longer to start than to run.
   */
  runStartMs?: number;
  runEndMs?: number;
  deleted: string[];
  killed: string[];
  safeMode: string | null;
}

/** Sandbox names under a work dir (dot-names are the cleaner's own in-progress renames). */
export function listSandboxes(workDir: string): string[] {
  try {
    return readdirSync(path.join(workDir, 'sandboxes')).filter((n) => !n.startsWith('.'));
  } catch {
    return [];
  }
}

/** Cleans one agent's work dir every few seconds until the workload stops. */
export async function runCleanupClient(
  ctx: WorkloadContext,
  rng: Rng,
  agent: { id: string; workDir: string },
  summaryDir: string,
): Promise<void> {
  const schedulers = ctx.replicas.map((r) => r.url).join(',');
  while (!ctx.stopped) {
    await ctx.sleep(rng.int(4_000, 10_000));
    if (ctx.stopped) return;
    await ctx.history.run(
      { process: `cleanup-${agent.id}`, kind: 'cleanup', target: agent.id },
      async () => {
        const before = listSandboxes(agent.workDir);
        const { code, stdout, stderr } = await runOnce(agent.workDir, schedulers, summaryDir);
        const after = listSandboxes(agent.workDir);
        const summary = lastJsonLine(stdout) as
          | {
              startedAt?: string;
              durationMs?: number;
              deleted?: string[];
              killed?: { taskId: string }[];
              safeMode?: string | null;
            }
          | undefined;
        const runStartMs = summary?.startedAt ? Date.parse(summary.startedAt) : undefined;
        const result: CleanupResult = {
          agentId: agent.id,
          before,
          after,
          ...(runStartMs === undefined
            ? {}
            : { runStartMs, runEndMs: runStartMs + (summary?.durationMs ?? 0) }),
          deleted: summary?.deleted ?? [],
          killed: [...new Set((summary?.killed ?? []).map((k) => k.taskId))],
          safeMode: summary?.safeMode ?? null,
        };
        if (code !== 0 || !summary) {
          return { outcome: 'info', error: `exit ${code}: ${stderr.slice(-300)}`, result };
        }
        return { outcome: 'ok', result };
      },
    );
  }
}

function runOnce(
  workDir: string,
  schedulers: string,
  summaryDir: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = [
    thalesCliPath(),
    'executor-cleanup',
    ...['--work-dir', workDir, '--scheduler', schedulers, '--once'],
    ...['--retention', '15s', '--failed-retention', '15s', '--launch-grace', '10s'],
    ...['--kill-grace', '2s', '--request-timeout', '3s', '--summary-dir', summaryDir],
  ];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

function lastJsonLine(stdout: string): unknown {
  const line = stdout.trim().split('\n').pop();
  try {
    return line ? (JSON.parse(line) as unknown) : undefined;
  } catch {
    return undefined;
  }
}
