/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers are checked field by field */
import { describe, expect, it } from 'vitest';
import { useZooKeeper } from '../harness/index.js';
import { callJson, startTasksApiServer } from '../harness/tasks-api-server.js';

const zk = useZooKeeper();

type Server = Awaited<ReturnType<typeof startTasksApiServer>>;

/** Every znode under the chroot with its data: to prove bad input changed nothing. */
async function snapshot(server: Server): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (p: string): Promise<void> => {
    const node = await server.zk.getOrNull(p);
    if (node) out[p] = node.data.toString();
    for (const c of await server.zk.children(p).catch(() => [] as string[])) {
      await walk(p === '/' ? `/${c}` : `${p}/${c}`);
    }
  };
  await walk('/');
  return out;
}

/** A load-balanced deploy in Singularity's JSON, every field of this issue set. */
const lbDeploy = {
  requestId: 'web',
  id: 'v1',
  command: 'node',
  arguments: ['server.mjs'],
  resources: { cpus: 0.1, memoryMb: 32, numPorts: 1 },
  healthcheck: {
    uri: '/health',
    portIndex: 0,
    protocol: 'HTTP',
    intervalSeconds: 2,
    startupTimeoutSeconds: 20,
    maxRetries: 1,
    failureStatusCodes: [500],
  },
  skipHealthchecksOnDeploy: false,
  deployHealthTimeoutSeconds: 90,
  considerHealthyAfterRunningForSeconds: 3,
  deployInstanceCountPerStep: 1,
  deployStepWaitTimeMs: 1000,
  autoAdvanceDeploySteps: true,
  maxTaskRetries: 1,
  serviceBasePath: '/web',
  loadBalancerGroups: ['edge'],
  loadBalancerOptions: { proxy_read_timeout: '5s' },
  loadBalancerPortIndex: 0,
  loadBalancerServiceIdOverride: 'web-svc',
};

async function withRequest(s: Server, extra: Record<string, unknown> = {}): Promise<void> {
  const r = await callJson(`${s.url}/api/requests`, 'POST', {
    id: 'web',
    requestType: 'SERVICE',
    instances: 2,
    ...extra,
  });
  expect(r.status).toBe(200);
}

describe('deploy fields over HTTP (real ZooKeeper)', () => {
  it("stores Singularity's deploy JSON as is and warns about what is not acted on yet", async () => {
    const s = await startTasksApiServer(zk().connectString);
    const created = await callJson(`${s.url}/api/requests`, 'POST', {
      id: 'web',
      requestType: 'SERVICE',
      instances: 2,
      loadBalanced: true,
    });
    // The leader acts on loadBalanced now: nothing to warn about.
    expect(created.body.warnings).toBeUndefined();
    const res = await callJson(`${s.url}/api/deploys`, 'POST', { deploy: lbDeploy });
    expect(res.status).toBe(200);
    expect(res.body.pendingDeploy).toMatchObject({
      healthcheck: { uri: '/health', intervalSeconds: 2, responseTimeoutSeconds: 5 },
      deployInstanceCountPerStep: 1,
      serviceBasePath: '/web',
      loadBalancerGroups: ['edge'],
    });
    // Steps, health and load-balancer fields are acted on: only the service-id caveat is left.
    const warned = res.body.warnings.map((w: any) => w.field);
    expect(warned).toEqual(['deploy.loadBalancerServiceIdOverride']);
    expect(res.body.warnings[0].message).toMatch(/old service/);
    // What is stored reads back the same from any replica.
    const read = await callJson(`${s.url}/api/requests/request/web`, 'GET');
    expect(read.body.pendingDeploy).toEqual(res.body.pendingDeploy);
    expect(read.body.warnings).toBeUndefined();
  });

  const bad: [string, Record<string, unknown>, string, boolean][] = [
    [
      'a negative interval',
      { healthcheck: { uri: '/', intervalSeconds: -1 } },
      'deploy.healthcheck.intervalSeconds',
      true,
    ],
    [
      'portIndex beyond numPorts',
      { healthcheck: { uri: '/', portIndex: 1 } },
      'deploy.healthcheck.portIndex',
      true,
    ],
    ['a serviceBasePath without /', { serviceBasePath: 'web' }, 'deploy.serviceBasePath', true],
    [
      'an unknown protocol',
      { healthcheck: { uri: '/', protocol: 'SPDY' } },
      'deploy.healthcheck.protocol',
      true,
    ],
    [
      'load-balancer fields on a request not loadBalanced',
      { serviceBasePath: '/web' },
      'deploy.serviceBasePath',
      false,
    ],
    [
      'no groups on a loadBalanced request',
      { serviceBasePath: '/web' },
      'deploy.loadBalancerGroups',
      true,
    ],
  ];
  for (const [name, fields, field, loadBalanced] of bad) {
    it(`refuses ${name} with 400 naming ${field}; nothing stored`, async () => {
      const s = await startTasksApiServer(zk().connectString);
      await withRequest(s, { loadBalanced });
      const before = await snapshot(s);
      const deploy = {
        requestId: 'web',
        id: 'v1',
        command: 'x',
        resources: { numPorts: 1 },
        ...fields,
      };
      const res = await callJson(`${s.url}/api/deploys`, 'POST', { deploy });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_ARGUMENT');
      expect(res.body.error.field).toBe(field);
      expect(res.body.error.message).toContain(field);
      expect(await snapshot(s)).toEqual(before);
    });
  }

  it('refuses loadBalanced on a WORKER, naming the field; nothing stored', async () => {
    const s = await startTasksApiServer(zk().connectString);
    const before = await snapshot(s);
    const res = await callJson(`${s.url}/api/requests`, 'POST', {
      id: 'w',
      requestType: 'WORKER',
      loadBalanced: true,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('loadBalanced');
    expect(await snapshot(s)).toEqual(before);
  });
});
