/**
 * `npm run bench -- cleanup [sandboxes]`: one executor-cleanup run over a generated work dir
 * of finished-task sandboxes (default 10,000), with a local HTTP stand-in for the replicas
 * that reports no active task. Three runs: compress (every log, retention not yet over),
 * delete (retention 0), and a no-op run over the emptied dir. Prints progress, then one JSON
 * line with the compress run's time as `ms`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { runCleanup, type CleanupSummary } from '../../src/executor-cleanup/index.js';

const count = Number(process.argv[2] ?? 10_000);
const agentId = 'bench-agent';

function generate(workDir: string): void {
  writeFileSync(path.join(workDir, 'agent.json'), JSON.stringify({ agentId, highestTerm: 1 }));
  const finishedAt = Date.now() - 3_600_000;
  const line = 'GET /health 200 1ms request handled by worker\n';
  for (let i = 0; i < count; i++) {
    const taskId = `req${i % 100}-d1-${1_700_000_000_000 + i}-${i % 7}-${agentId}`;
    const dir = path.join(workDir, 'sandboxes', taskId);
    mkdirSync(dir, { recursive: true });
    const task = { taskId, requestId: `req${i % 100}`, agentId, launchedAt: finishedAt - 60_000 };
    writeFileSync(path.join(dir, 'task.json'), JSON.stringify(task));
    const exec = { executorPid: 999_999, executorStartTime: 1, taskPid: 999_998, pgid: 999_998 };
    writeFileSync(path.join(dir, 'executor.json'), JSON.stringify({ ...exec, taskStartTime: 1 }));
    const state = i % 10 === 0 ? 'TASK_FAILED' : 'TASK_FINISHED';
    writeFileSync(
      path.join(dir, 'exit.json'),
      JSON.stringify({ exitCode: 0, signal: null, finishedAt, state }),
    );
    writeFileSync(path.join(dir, 'stdout'), line.repeat(40 + (i % 50)));
    writeFileSync(path.join(dir, 'stderr'), 'warning: slow start\n'.repeat(1 + (i % 5)));
  }
}

async function timed(
  label: string,
  run: () => Promise<CleanupSummary>,
): Promise<{ ms: number; s: CleanupSummary }> {
  const t0 = performance.now();
  const s = await run();
  const ms = Math.round(performance.now() - t0);
  process.stdout.write(
    `${label.padEnd(9)} ${String(ms).padStart(7)} ms  examined ${s.tasksExamined}, compressed ${s.filesCompressed} files ` +
      `(${s.bytesCompressed} → ${s.bytesAfterCompression} bytes), deleted ${s.sandboxesDeleted}, safe mode ${s.safeMode ?? 'no'}\n`,
  );
  return { ms, s };
}

async function main(): Promise<void> {
  process.stdout.write(
    `node ${process.version}, ${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  const server = http.createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end('[]'),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'thales-bench-cleanup-'));
  try {
    process.stdout.write(`generating ${count} finished sandboxes in ${workDir}…\n`);
    const g0 = performance.now();
    generate(workDir);
    process.stdout.write(`generated in ${Math.round(performance.now() - g0)} ms\n`);
    const base = {
      workDir,
      schedulers: [url],
      killGraceMs: 10_000,
      requestTimeoutMs: 5_000,
      dryRun: false,
      logger: pino({ level: 'silent' }),
    };
    const day = 86_400_000;
    const policy = (retentionMs: number) => ({
      retentionMs,
      failedRetentionMs: retentionMs,
      launchGraceMs: 0,
    });
    const compress = await timed('compress', () => runCleanup({ ...base, policy: policy(day) }));
    const del = await timed('delete', () => runCleanup({ ...base, policy: policy(0) }));
    const noop = await timed('no-op', () => runCleanup({ ...base, policy: policy(0) }));
    if (compress.s.filesCompressed < count * 2 || del.s.sandboxesDeleted !== count)
      throw new Error('bench run did not do the work');
    process.stdout.write(
      `load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
    );
    process.stdout.write(
      `${JSON.stringify({ bench: 'cleanup', sandboxes: count, ms: compress.ms, delete_ms: del.ms, noop_ms: noop.ms })}\n`,
    );
  } finally {
    server.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
