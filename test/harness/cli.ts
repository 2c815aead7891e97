import { spawn } from 'node:child_process';
import { thalesCliPath } from '../../src/dev/index.js';

/** How a `thales` invocation ended. */
export interface CliResult {
  /** Exit code, or null if it had to be killed (still running at the deadline). */
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/**
 * Runs the real `thales` CLI (from dist/) with `args`; kills it after `timeoutMs` and then
 * reports `code: null`, so a process that should have exited but did not fails the test.
 */
export function runThales(
  args: string[],
  { timeoutMs = 30_000, env = {} }: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const started = Date.now();
  const child = spawn(process.execPath, [thalesCliPath(), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: killed ? null : code, stdout, stderr, elapsedMs: Date.now() - started });
    });
  });
}
