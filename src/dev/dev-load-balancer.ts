/**
 * The load-balancer side of `thales dev`: one `thales lb-agent` (group `dev`) with its own
 * nginx. The demo service is a `loadBalanced` request: the leader puts its healthy instances
 * behind it, so the operator has one URL that reaches every instance.
 */
import path from 'node:path';
import { findFreePorts } from './free-port.js';
import type { LocalReplica } from './scheduler-cluster.js';
import { ThalesProcess } from './thales-process.js';
import { fetchJson, waitFor } from './wait-for.js';

/** The running lb-agent of `thales dev`. */
export interface DevLoadBalancer {
  process: ThalesProcess;
  /** Where nginx serves the demo service. */
  demoUrl: string;
}

const GROUP = 'dev';
const BASE_PATH = '/demo/';

/**
 * Starts the lb-agent and waits until it has joined its group; `onStarted` learns of it as
 * soon as its process runs (a stop during the wait must know it).
 */
export async function startDevLoadBalancer(
  replicas: LocalReplica[],
  zkConnect: string,
  dir: string,
  onStarted: (lb: DevLoadBalancer) => void = () => undefined,
): Promise<DevLoadBalancer> {
  const [nginxPort, httpPort] = (await findFreePorts(2)) as [number, number];
  const proc = new ThalesProcess(
    'lb-agent',
    [
      'lb-agent',
      '--group',
      GROUP,
      '--agent-id',
      'lb-dev-1',
      '--zk',
      zkConnect,
      '--chroot',
      '/thales',
      '--nginx-port',
      String(nginxPort),
      '--http-port',
      String(httpPort),
      '--work-dir',
      path.join(dir, 'lb-agent'),
    ],
    path.join(dir, 'lb-agent.log'),
  );
  proc.start();
  const lb: DevLoadBalancer = {
    process: proc,
    demoUrl: `http://127.0.0.1:${nginxPort}${BASE_PATH}`,
  };
  onStarted(lb);
  const api = replicas[0]?.url ?? '';
  await waitFor(
    `lb-agent to join group ${GROUP}`,
    async () => {
      const group = await fetchJson<{ agents?: unknown[] }>(`${api}/api/lb/groups/${GROUP}`);
      return (group?.agents?.length ?? 0) > 0;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  return lb;
}

/** The demo deploy's load-balancer fields: the leader puts each healthy instance behind nginx. */
export const DEMO_LB_FIELDS = {
  serviceBasePath: BASE_PATH,
  loadBalancerGroups: [GROUP],
} as const;

/**
 * Waits until the leader has put `instances` upstreams into service `demo` on the lb-agent
 * (no hand-made request: the deploy driver adds each instance once it is healthy).
 */
export async function waitDemoRouted(api: string, instances: number): Promise<void> {
  await waitFor(
    `${instances} demo instances behind nginx`,
    async () => {
      const s = await fetchJson<{ upstreams?: unknown[] }>(`${api}/api/lb/services/demo`);
      return (s?.upstreams?.length ?? 0) >= instances;
    },
    { timeoutMs: 120_000, intervalMs: 200 },
  );
}
