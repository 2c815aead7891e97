import path from 'node:path';
import { findFreePorts } from './free-port.js';
import { ThalesProcess } from './thales-process.js';

/** One replica of a local cluster, with where it listens. */
export interface LocalReplica {
  id: string;
  httpPort: number;
  grpcPort: number;
  process: ThalesProcess;
  /** Base URL of its HTTP API. */
  url: string;
}

/** Options for {@link startSchedulerReplicas}. */
export interface LocalReplicasOptions {
  count: number;
  zkConnect: string;
  chroot: string;
  dir: string;
  sessionTimeoutMs: number;
  debugApi?: boolean;
  extraArgs?: string[];
}

/** Starts `count` `thales scheduler` processes on free loopback ports. */
export async function startSchedulerReplicas(o: LocalReplicasOptions): Promise<LocalReplica[]> {
  const ports = await findFreePorts(o.count * 2);
  return Array.from({ length: o.count }, (_, i) => {
    const id = `replica-${i + 1}`;
    const httpPort = ports[2 * i] as number;
    const grpcPort = ports[2 * i + 1] as number;
    const args = [
      'scheduler',
      '--replica-id',
      id,
      '--zk',
      o.zkConnect,
      '--chroot',
      o.chroot,
      '--session-timeout-ms',
      String(o.sessionTimeoutMs),
      '--http-port',
      String(httpPort),
      '--grpc-port',
      String(grpcPort),
      ...(o.debugApi ? ['--debug-api'] : []),
      ...(o.extraArgs ?? []),
    ];
    const proc = new ThalesProcess(id, args, path.join(o.dir, `${id}.log`));
    proc.start();
    return { id, httpPort, grpcPort, process: proc, url: `http://127.0.0.1:${httpPort}` };
  });
}
