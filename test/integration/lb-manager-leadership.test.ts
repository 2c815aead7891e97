/**
 * The lb-manager across leaderships of one replica (real ZooKeeper): a leadership that was
 * paused (ZooKeeper disconnected) and then revoked (session expired) must not leave the next
 * leadership of the same process paused. Found by the chaos run (docs/chaos.md): after it, no
 * load-balancer request was ever processed again by that replica.
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FencedWriter } from '../../src/leader/index.js';
import { LbManager, LbRequestStore, parseLbRequest } from '../../src/lb/index.js';
import { connectCoordinator, uniqueChroot, useZooKeeper, waitFor } from '../harness/index.js';

const zk = useZooKeeper();

describe('lb-manager leaderships', () => {
  it('processes requests in a leadership that follows one revoked while paused', async () => {
    const c = await connectCoordinator(zk().connectString, uniqueChroot());
    const store = new LbRequestStore(c);
    const manager = new LbManager(c, store, {
      agentTimeoutMs: 1_000,
      agentGraceMs: 0,
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
    });
    const writerOf = async (term: number): Promise<FencedWriter> => {
      const latch = await c.create('/leader/latch-', Buffer.from('r1'), 'ephemeralSequential');
      return new FencedWriter(c, { path: latch, version: 0 }, term);
    };
    await manager.establishLeadership(1, await writerOf(1));
    manager.pause(); // ZooKeeper disconnected…
    manager.revokeLeadership(); // …and the session expired
    await manager.establishLeadership(2, await writerOf(2));

    const request = parseLbRequest({
      requestId: 'after-pause',
      service: { serviceId: 's1', basePath: '/s1/', groups: ['nobody'] },
      addUpstreams: [{ upstream: '127.0.0.1:1' }],
    });
    await store.submit(request, Date.now());
    // Any terminal state shows the leader handled it (the group has no agents: a no-op).
    const state = await waitFor(
      'the request handled by the new leadership',
      async () => {
        const r = await store.getRequest('after-pause');
        return r && r.value.state !== 'WAITING' ? r.value.state : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(state).toBe('INVALID_REQUEST_NOOP');
    manager.revokeLeadership();
  });
});
