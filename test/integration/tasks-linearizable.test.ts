/**
 * `?consistency=linearizable` (real 3-server ZooKeeper ensemble, two replicas pinned to
 * different servers): a read on one replica right after a write acknowledged by the other
 * sees that write, every time. A plain (sequential) read may not — its server may not have
 * applied the commit yet — and is only counted, since how often depends on timing.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { startSchedulerReplicas } from '../../src/dev/index.js';
import { makeTempDir, uniqueChroot, useZooKeeper, waitFor } from '../harness/index.js';
import { callJson } from '../harness/tasks-cluster.js';

const zk = useZooKeeper(3);

async function startPinned(server: string, id: string, chroot: string, dir: string) {
  const [replica] = await startSchedulerReplicas({
    count: 1,
    zkConnect: server,
    chroot,
    dir,
    sessionTimeoutMs: 4_000,
    extraArgs: ['--replica-id', id],
  });
  onTestFinished(() => replica!.process.stop(3_000));
  await waitFor(`${id} answers`, async () => {
    const res = await callJson(`${replica!.url}/api/requests`, 'GET', undefined, 1_000).catch(
      () => undefined,
    );
    return res?.status === 200 ? true : undefined;
  });
  return replica!;
}

describe('linearizable reads', () => {
  it('a read on one replica sees what another replica acknowledged just before', async () => {
    const ensemble = zk();
    const [first, second] = ensemble.servers;
    const dir = makeTempDir();
    const chroot = uniqueChroot();
    const writer = await startPinned(first!.address, 'writer', chroot, dir);
    const reader = await startPinned(second!.address, 'reader', chroot, dir);
    const created = await callJson(`${writer.url}/api/requests`, 'POST', {
      id: 'lin',
      requestType: 'WORKER',
      instances: 0,
    });
    expect(created.status).toBe(200);
    let staleSequential = 0;
    const rounds = 150;
    for (let instances = 1; instances <= rounds; instances++) {
      const scaled = await callJson(`${writer.url}/api/requests/request/lin/scale`, 'PUT', {
        instances,
      });
      expect(scaled.status).toBe(200);
      const [sequential, linearizable] = await Promise.all([
        callJson(`${reader.url}/api/requests/request/lin`, 'GET'),
        callJson(`${reader.url}/api/requests/request/lin?consistency=linearizable`, 'GET'),
      ]);
      expect(linearizable.status).toBe(200);
      expect(linearizable.body.request.instances).toBe(instances);
      if (sequential.status !== 200 || sequential.body.request.instances !== instances)
        staleSequential++;
    }
    process.stdout.write(
      `[linearizable] ${rounds} rounds: 0 stale linearizable reads, ${staleSequential} stale sequential reads\n`,
    );
    // The parameter is validated like any other.
    const bad = await callJson(`${reader.url}/api/requests/request/lin?consistency=strong`, 'GET');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('query.consistency');
  });
});
