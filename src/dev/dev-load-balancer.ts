/**
 * The load-balancer side of `thales dev`: one `thales lb-agent` (group `dev`) with its own
 * nginx, and the demo service's instances put behind it with a Baragon-style request, so the
 * operator has one URL that reaches every instance.
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

/** Puts `upstreams` (host:port) behind nginx as service `demo` and waits for SUCCESS. */
export async function routeDemoService(api: string, upstreams: string[]): Promise<void> {
  const requestId = `dev-demo-${Date.now()}`;
  const res = await fetch(`${api}/api/lb/requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      requestId,
      service: { serviceId: 'demo', basePath: BASE_PATH, groups: [GROUP] },
      replaceUpstreams: upstreams.map((upstream) => ({ upstream, requestId: 'demo' })),
    }),
  });
  if (!res.ok) throw new Error(`load-balancer request refused: ${await res.text()}`);
  const final = await waitFor(
    'the load-balancer request to finish',
    async () => {
      const r = await fetchJson<{ state?: string }>(`${api}/api/lb/requests/${requestId}`);
      return r?.state && r.state !== 'WAITING' && r.state !== 'CANCELING' ? r.state : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  if (final !== 'SUCCESS') throw new Error(`load-balancer request ended ${final}`);
}
