/**
 * Finds and kills every process whose command line or working directory lies under a
 * directory: how a test that ran daemons through a supervisor (pid files, detached
 * executors, nginx masters, tasks) makes sure nothing it started outlives it.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { waitFor } from '../../src/dev/wait-for.js';

/** This process and its ancestors: a shell that named `dir` in its command is not a target. */
function selfAndAncestors(): Set<number> {
  const chain = new Set<number>();
  for (let pid = process.pid; pid > 1 && !chain.has(pid);) {
    chain.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return chain;
}

/** Pids (not this process nor its ancestors) whose argv or cwd mentions `dir`. */
export function processesUnder(dir: string): number[] {
  const found: number[] = [];
  const mine = selfAndAncestors();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || mine.has(pid)) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // a zombie or a process of another user: its command line is enough
      }
      if (argv.includes(dir) || cwd === dir || cwd.startsWith(`${dir}/`)) found.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** SIGTERM to every process under `dir`, SIGKILL to those left after 5 s; returns how many. */
export async function killProcessesUnder(dir: string): Promise<number> {
  const pids = processesUnder(dir);
  const signal = (sig: NodeJS.Signals, list: number[]): void => {
    for (const pid of list) {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  signal('SIGCONT', pids);
  signal('SIGTERM', pids);
  await waitFor('processes to exit after SIGTERM', () => processesUnder(dir).length === 0, {
    timeoutMs: 5_000,
    intervalMs: 100,
  }).catch(() => signal('SIGKILL', processesUnder(dir)));
  return pids.length;
}
