/**
 * Records every exit of the cluster's processes that nobody asked for (the nemesis's kills
 * and the final stop are asked for), with the last line of the process's log.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { ProcessExit } from '../../../../src/dev/index.js';
import type { ProcessCrash } from '../check/index.js';
import type { ChaosCluster } from './chaos-cluster.js';

/** The crashes seen so far, in order. */
export function watchCrashes(
  cluster: ChaosCluster,
  say: (line: string) => void,
): { crashes: ProcessCrash[] } {
  const crashes: ProcessCrash[] = [];
  const onExit = (e: ProcessExit): void => {
    if (e.asked) return;
    const lastLogLine = lastLine(e.logFile);
    crashes.push({ name: e.name, code: e.code, signal: e.signal, at: e.at, lastLogLine });
    say(`CRASH: ${e.name} exited on its own (code ${e.code}, signal ${e.signal})`);
  };
  for (const r of cluster.replicas) r.process.onExit(onExit);
  for (const a of cluster.agents) a.process.onExit(onExit);
  cluster.lb.process.onExit(onExit);
  for (const s of cluster.zk.servers) s.onExit(onExit);
  return { crashes };
}

/** The last non-empty line of `file` (its last 8 KiB read), if any. */
function lastLine(file: string): string | undefined {
  try {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      const length = Math.min(size, 8_192);
      const buf = Buffer.alloc(length);
      readSync(fd, buf, 0, length, size - length);
      const lines = buf
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== '');
      return lines.at(-1)?.slice(0, 2_000);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}
