/**
 * Log rotation in a real executor: a task writing incompressible output as fast as it can
 * keeps the sandbox's log disk use within the rotation settings the whole time.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readChunk, readSandbox } from '../../src/agent/index.js';
import { launchTask, makeCleanupWorkDir, waitForExit } from '../harness/cleanup-sandboxes.js';

const MAX = 64 * 1024;
const KEEP = 3;

/** Bytes of stdout* files (current, rotated, being compressed) and the names seen. */
function logUsage(dir: string): { bytes: number; current: number; gz: number } {
  let bytes = 0;
  let current = 0;
  let gz = 0;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith('stdout')) continue;
    try {
      const size = statSync(path.join(dir, name)).size;
      bytes += size;
      if (name === 'stdout') current = size;
      if (/^stdout\.\d+\.gz$/.test(name)) gz += 1;
    } catch {
      // renamed between the listing and the stat
    }
  }
  return { bytes, current, gz };
}

describe('executor log rotation (real executor)', () => {
  it('a large, fast-writing log stays within maxBytes × (keep + 3) on disk', async () => {
    const { workDir, layout } = makeCleanupWorkDir('agent-rot');
    const script =
      'n=0; while :; do head -c 24576 /dev/urandom | base64; n=$((n+1)); echo $n > count.new; mv count.new count; done';
    await launchTask(workDir, 'agent-rot', 'rot', script, {
      THALES_LOG_MAX_BYTES: String(MAX),
      THALES_LOG_KEEP: String(KEEP),
    });
    const dir = layout.sandbox('rot');
    const bound = MAX * (KEEP + 3);
    // The script replaces `count` by rename, so a read never sees it truncated mid-write.
    const produced = (): number => {
      try {
        return Number(readFileSync(path.join(dir, 'count'), 'utf8').trim()) * 33_200;
      } catch {
        return 0; // not written yet
      }
    };
    let samples = 0;
    let worst = 0;
    let mostGz = 0;
    const deadline = Date.now() + 60_000;
    // Sample until the task has written 40 × the bound (or a generous deadline).
    while (produced() < 40 * bound && Date.now() < deadline) {
      const u = logUsage(dir);
      worst = Math.max(worst, u.bytes);
      mostGz = Math.max(mostGz, u.gz);
      expect(u.current).toBeLessThanOrEqual(MAX);
      expect(u.gz).toBeLessThanOrEqual(KEEP);
      expect(u.bytes).toBeLessThanOrEqual(bound);
      samples += 1;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(produced()).toBeGreaterThanOrEqual(40 * bound);
    expect(samples).toBeGreaterThan(10);
    // Rotation reached its full depth (a sample mid-rotation may see one file fewer).
    expect(mostGz).toBe(KEEP);

    const e = readSandbox(layout, 'rot').executor;
    process.kill(-(e?.pgid ?? 0), 'SIGTERM');
    await waitForExit(layout, 'rot');
    // The current file is what the sandbox read endpoint serves: the latest output, readable.
    const chunk = readChunk(path.join(dir, 'stdout'), 0, MAX);
    expect(chunk.data).toMatch(/^[A-Za-z0-9+/=\n]*$/);
    expect(worst).toBeLessThanOrEqual(bound);
  });
});
