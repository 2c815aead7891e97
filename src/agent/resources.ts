import { statfsSync } from 'node:fs';
import os from 'node:os';

/** What an agent offers: cpus, memory and disk (MB). */
export interface AgentResources {
  cpus: number;
  memoryMb: number;
  diskMb: number;
}

/** Detects this host's resources; anything given explicitly wins. Disk is the work dir's free space. */
export function detectResources(workDir: string, given: Partial<AgentResources>): AgentResources {
  const mb = 1024 * 1024;
  let diskMb = given.diskMb;
  if (diskMb === undefined) {
    const fs = statfsSync(workDir);
    diskMb = Math.floor((fs.bavail * fs.bsize) / mb);
  }
  return {
    cpus: given.cpus ?? os.cpus().length,
    memoryMb: given.memoryMb ?? Math.floor(os.totalmem() / mb),
    diskMb,
  };
}
