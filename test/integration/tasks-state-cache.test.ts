/**
 * The TreeCache under the replicas' state cache, against a real ZooKeeper: the first load is
 * reported once complete, every change arrives as a `node` event with its version after the
 * cache holds it, and every znode of a removed subtree is reported gone once.
 */
import { describe, expect, it } from 'vitest';
import { type ZNode, TreeCache, linearizableBarrier } from '../../src/coordination/index.js';
import { connectCoordinator, uniqueChroot, useZooKeeper, waitFor } from '../harness/index.js';

const zk = useZooKeeper();

describe('TreeCache (real ZooKeeper)', () => {
  it('loads, follows changes with versions, and reports each removal once', async () => {
    const coordinator = await connectCoordinator(zk().connectString, uniqueChroot());
    await coordinator.mkdirp('/root/a');
    await coordinator.create('/root/b', Buffer.from('b0'));
    await coordinator.create('/root/a/x', Buffer.from('x0'));
    const cache = new TreeCache(coordinator, '/root', 2);
    const events: string[] = [];
    cache.on('node', (path, node: ZNode | null, previous) =>
      events.push(`${path} ${previous?.version ?? '-'}→${node ? node.version : 'gone'}`),
    );
    cache.start();
    try {
      await cache.whenSynced();
      expect(cache.synced).toBe(true);
      // Synced means every znode below is read, not merely listed.
      expect(cache.children('/root').map(([name]) => name)).toEqual(['a', 'b']);
      expect(cache.get('/root/a/x')?.data.toString()).toBe('x0');

      events.length = 0;
      await coordinator.set('/root/a/x', Buffer.from('x1'), 0);
      await waitFor('x at version 1', () =>
        cache.get('/root/a/x')?.version === 1 ? true : undefined,
      );
      expect(events).toEqual(['/root/a/x 0→1']);
      expect(cache.get('/root/a/x')?.data.toString()).toBe('x1');

      events.length = 0;
      await coordinator.create('/root/a/y', Buffer.from('y0'));
      await waitFor('y cached', () => (cache.get('/root/a/y') ? true : undefined));
      await coordinator.multi([
        { op: 'remove', path: '/root/a/x', version: -1 },
        { op: 'remove', path: '/root/a/y', version: -1 },
        { op: 'remove', path: '/root/a', version: -1 },
      ]);
      await waitFor('a gone', () => (cache.get('/root/a') ? undefined : true));
      await waitFor('x and y gone', () =>
        cache.get('/root/a/x') || cache.get('/root/a/y') ? undefined : true,
      );
      expect(events[0]).toBe('/root/a/y -→0');
      const gone = events.slice(1);
      expect(gone.sort()).toEqual(
        ['/root/a 0→gone', '/root/a/x 1→gone', '/root/a/y 0→gone'].sort(),
      );
      expect(cache.children('/root').map(([name]) => name)).toEqual(['b']);
    } finally {
      cache.stop();
    }
  });

  it('settled() after a barrier reflects every write another client had acknowledged', async () => {
    const chroot = uniqueChroot();
    const reader = await connectCoordinator(zk().connectString, chroot);
    const writer = await connectCoordinator(zk().connectString, chroot);
    await writer.mkdirp('/root');
    const cache = new TreeCache(reader, '/root', 2);
    cache.start();
    try {
      await cache.whenSynced();
      for (let round = 0; round < 20; round++) {
        // A new znode in a new directory: the cache must list the directory, then the znode
        // it reveals, then read it; settled() waits for all of it, no polling.
        await writer.mkdirp(`/root/d${round}`);
        await writer.create(`/root/d${round}/n`, Buffer.from(`v${round}`));
        if (round > 0) await writer.set(`/root/d${round - 1}/n`, Buffer.from('changed'), 0);
        await linearizableBarrier(reader);
        await cache.settled();
        expect(cache.get(`/root/d${round}/n`)?.data.toString()).toBe(`v${round}`);
        if (round > 0) expect(cache.get(`/root/d${round - 1}/n`)?.version).toBe(1);
      }
      const readsBefore = reader.readCount;
      await linearizableBarrier(reader);
      await cache.settled();
      // Nothing changed: catching up reads nothing.
      expect(reader.readCount).toBe(readsBefore);
    } finally {
      cache.stop();
    }
  });

  it('a dataless directory costs one children read: its data is neither read nor cached', async () => {
    const coordinator = await connectCoordinator(zk().connectString, uniqueChroot());
    await coordinator.mkdirp('/root');
    const cache = new TreeCache(coordinator, '/root', 2, undefined, (_p, level) => level === 1);
    cache.start();
    try {
      await cache.whenSynced();
      const before = coordinator.readCount;
      await coordinator.multi([
        { op: 'create', path: '/root/d', data: Buffer.from('marker') },
        { op: 'create', path: '/root/d/n', data: Buffer.from('n0') },
      ]);
      await linearizableBarrier(coordinator);
      await cache.settled();
      expect(cache.get('/root/d/n')?.data.toString()).toBe('n0');
      expect(cache.get('/root/d')).toBeUndefined();
      expect(cache.childNames('/root')).toEqual(['d']);
      // children of /root, children of /root/d, data of /root/d/n (and the barrier's sync).
      expect(coordinator.readCount - before).toBe(3);

      // Rewriting the directory's data reads nothing; its children still follow.
      const quiet = coordinator.readCount;
      await coordinator.set('/root/d', Buffer.from('marker 2'), 0);
      await linearizableBarrier(coordinator);
      await cache.settled();
      expect(coordinator.readCount).toBe(quiet);
      await coordinator.multi([
        { op: 'remove', path: '/root/d/n', version: -1 },
        { op: 'remove', path: '/root/d', version: -1 },
      ]);
      await waitFor('n gone', () => (cache.get('/root/d/n') ? undefined : true));
      await waitFor('d unlisted', () =>
        cache.childNames('/root').length === 0 ? true : undefined,
      );
    } finally {
      cache.stop();
    }
  });
});
