/**
 * The directory of a `thales dev` run: who uses it (`thales-dev.json`, the orchestrator's pid
 * and start time), and what an earlier run left running in it.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { isProcessAlive, readProcStat } from '../agent/index.js';
import { readJsonOrUndefined, writeJsonAtomic } from '../runtime/index.js';
import { describeProcesses, findDevProcesses, stopDevProcesses } from './dev-processes.js';

/** `<dir>/thales-dev.json`: the orchestrator of the run using the directory. */
interface DevRunRecord {
  pid: number;
  /** /proc start time, to tell it from a later process that reused the pid. */
  startTime: number;
  startedAt: number;
}

const RECORD = 'thales-dev.json';

/**
 * Makes `dir` this run's: refuses if another `thales dev` still runs in it; stops whatever an
 * earlier run left running (one killed with SIGKILL could not stop its children), saying so;
 * then wipes the directory and records this process as its orchestrator.
 */
export async function claimDevDir(dir: string, say: (line: string) => void): Promise<void> {
  const previous = readJsonOrUndefined<DevRunRecord>(path.join(dir, RECORD));
  if (
    previous &&
    previous.pid !== process.pid &&
    isProcessAlive(previous.pid, previous.startTime)
  ) {
    throw new Error(
      `another thales dev (pid ${previous.pid}) is running in ${dir}: stop it first ` +
        `(Ctrl-C in its terminal, or kill ${previous.pid}), or set THALES_DEV_DIR to another directory`,
    );
  }
  const left = findDevProcesses(dir).members;
  if (left.length > 0) {
    say(
      `found ${left.length} processes left running by an earlier thales dev in ${dir} ` +
        '(was it killed with SIGKILL?); stopping them:',
    );
    for (const line of describeProcesses(left).split('\n')) say(`  ${line}`);
    const sweep = await stopDevProcesses(dir, 3_000);
    if (sweep.left.length > 0) {
      throw new Error(
        `cannot stop what an earlier thales dev left running:\n${describeProcesses(sweep.left)}`,
      );
    }
    say(`stopped ${sweep.found.length} leftover processes`);
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const record: DevRunRecord = {
    pid: process.pid,
    startTime: readProcStat(process.pid)?.startTime ?? 0,
    startedAt: Date.now(),
  };
  writeJsonAtomic(path.join(dir, RECORD), record);
}
