/**
 * The safety net of a chaos run: SIGKILLs every process that belongs to it, whatever state
 * the run was abandoned in (a test timeout, Ctrl-C during start-up). A process belongs to the
 * run when its command line names the run's directory (ZooKeeper's config, agents' and the
 * lb-agent's work dirs, nginx's prefix, executors' sandboxes), its working directory lies in it
 * (tasks), or its environment carries `THALES_CHAOS_RUN=<dir>` (set on every Thales daemon the
 * run starts: replicas name no directory).
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { scanLiveProcesses } from '../../../harness/agent-process.js';

/** The environment variable marking a run's daemons. */
export const RUN_MARKER = 'THALES_CHAOS_RUN';

/** SIGKILLs every live process of the run in `dir`; returns how many were found. */
export function sweepRunProcesses(dir: string): number {
  const inDir = (p: string): boolean => p === dir || p.startsWith(`${dir}/`);
  const marker = `${RUN_MARKER}=${dir}\0`;
  const found = scanLiveProcesses((proc) => {
    const argv = readFileSync(`${proc}/cmdline`, 'utf8').split('\0');
    if (argv.some((a) => a.includes(`${dir}/`))) return true;
    if (inDir(readlinkSync(`${proc}/cwd`))) return true;
    return readFileSync(`${proc}/environ`, 'latin1').includes(marker) || undefined;
  }).filter((p) => p.pid !== process.pid);
  for (const { pid } of found) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  return found.length;
}
