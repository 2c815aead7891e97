/**
 * The Coordinator against a real standalone ZooKeeper, each test on its own chroot.
 */
import { describe, expect, it } from 'vitest';
import {
  CodecError,
  FenceRejectedError,
  TreeCache,
  ZkError,
  decodeJson,
  encodeJson,
  watchChildren,
  watchNode,
  type ZNode,
} from '../../src/coordination/index.js';
import { connectCoordinator, uniqueChroot, useZooKeeper, waitFor } from '../harness/index.js';

const zookeeper = useZooKeeper(1);
const connect = () => connectCoordinator(zookeeper().connectString, uniqueChroot());
const buf = (s: string) => Buffer.from(s);

describe('Coordinator (real ZooKeeper)', () => {
  it('compare-and-set with a stale version fails with BAD_VERSION and changes nothing', async () => {
    const zk = await connect();
    await zk.create('/doc', buf('v0'));
    const v1 = await zk.set('/doc', buf('v1'), 0);
    expect(v1).toBe(1);

    const err = await zk.set('/doc', buf('stale'), 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZkError);
    expect((err as ZkError).code).toBe('BAD_VERSION');
    expect((err as ZkError).path).toBe('/doc');

    const node = await zk.get('/doc');
    expect(node.data.toString()).toBe('v1');
    expect(node.version).toBe(1);
  });

  it('keeps everything under its chroot', async () => {
    const outer = uniqueChroot();
    const zk = await connectCoordinator(zookeeper().connectString, `${outer}/inner`);
    await zk.create('/inside', buf('x'));
    const parent = await connectCoordinator(zookeeper().connectString, outer);
    expect((await parent.get('/inner/inside')).data.toString()).toBe('x');
    expect(await parent.getOrNull('/inside')).toBeNull();
  });

  it('multi is atomic: one failing op leaves every other op unapplied', async () => {
    const zk = await connect();
    await zk.create('/a', buf('a0'));
    await zk.create('/b', buf('b0'));

    const err = await zk
      .multi([
        { op: 'set', path: '/a', data: buf('a1'), version: 0 },
        { op: 'create', path: '/c', data: buf('c') },
        { op: 'set', path: '/b', data: buf('b1'), version: 7 }, // wrong version
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZkError);
    expect((err as ZkError).code).toBe('BAD_VERSION');
    expect((err as ZkError).opIndex).toBe(2);
    expect((err as ZkError).path).toBe('/b');

    expect((await zk.get('/a')).data.toString()).toBe('a0');
    expect((await zk.get('/a')).version).toBe(0);
    expect(await zk.getOrNull('/c')).toBeNull();
    expect((await zk.get('/b')).data.toString()).toBe('b0');

    await zk.multi([
      { op: 'set', path: '/a', data: buf('a1'), version: 0 },
      { op: 'create', path: '/c', data: buf('c') },
      { op: 'remove', path: '/b', version: 0 },
    ]);
    expect((await zk.get('/a')).data.toString()).toBe('a1');
    expect((await zk.get('/c')).data.toString()).toBe('c');
    expect(await zk.getOrNull('/b')).toBeNull();
  });

  it('a fenced multi whose fence znode is gone throws FenceRejectedError and writes nothing', async () => {
    const zk = await connect();
    await zk.create('/data', buf('before'));
    const fencePath = await zk.create('/leader/latch-', buf('{}'), 'ephemeralSequential');
    const fence = { path: fencePath, version: 0 };

    await zk.multi([{ op: 'set', path: '/data', data: buf('while-fenced'), version: -1 }], fence);
    expect((await zk.get('/data')).data.toString()).toBe('while-fenced');

    await zk.remove(fencePath);
    const err = await zk
      .multi(
        [
          { op: 'set', path: '/data', data: buf('after-deposed'), version: -1 },
          { op: 'create', path: '/new', data: buf('x') },
        ],
        fence,
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FenceRejectedError);
    expect((err as FenceRejectedError).fence).toEqual(fence);
    expect((await zk.get('/data')).data.toString()).toBe('while-fenced');
    expect(await zk.getOrNull('/new')).toBeNull();
  });

  it('a fence with a stale version is rejected too', async () => {
    const zk = await connect();
    const fencePath = await zk.create('/leader/latch-', buf('{}'), 'ephemeralSequential');
    await zk.set(fencePath, buf('{"changed":true}'), 0);
    const err = await zk
      .multi([{ op: 'create', path: '/x', data: buf('x') }], { path: fencePath, version: 0 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FenceRejectedError);
    expect(await zk.getOrNull('/x')).toBeNull();
  });

  it('a failing op after a good fence is reported as that op, not as fenced', async () => {
    const zk = await connect();
    const fencePath = await zk.create('/leader/latch-', buf('{}'), 'ephemeralSequential');
    const err = await zk
      .multi([{ op: 'set', path: '/missing', data: buf('x'), version: -1 }], {
        path: fencePath,
        version: 0,
      })
      .catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(FenceRejectedError);
    expect(err).toBeInstanceOf(ZkError);
    expect((err as ZkError).code).toBe('NO_NODE');
    expect((err as ZkError).path).toBe('/missing');
  });

  it('watchNode re-arms across several changes, a delete and a re-create', async () => {
    const zk = await connect();
    const seen: (string | null)[] = [];
    const unwatch = watchNode(zk, '/w', (n: ZNode | null) =>
      seen.push(n ? n.data.toString() : null),
    );
    const last = () => seen[seen.length - 1];
    await waitFor('initial null', () => seen.length >= 1 && last() === null);

    await zk.create('/w', buf('1'));
    await waitFor('1', () => last() === '1');
    for (const v of ['2', '3', '4']) {
      await zk.set('/w', buf(v), -1);
      await waitFor(v, () => last() === v);
    }
    await zk.remove('/w');
    await waitFor('deleted', () => last() === null);
    await zk.create('/w', buf('5'));
    await waitFor('5', () => last() === '5');
    unwatch();

    const count = seen.length;
    await zk.set('/w', buf('after-unwatch'), -1);
    // Prove the stopped watch stays quiet: a second watch sees the change, the first did not.
    const other: string[] = [];
    const unwatch2 = watchNode(zk, '/w', (n) => n && other.push(n.data.toString()));
    await waitFor('second watch', () => other.includes('after-unwatch'));
    unwatch2();
    expect(seen.length).toBe(count);
    expect(seen.filter((s) => s !== null)).toEqual(
      expect.arrayContaining(['1', '2', '3', '4', '5']),
    );
  });

  it('watchChildren re-arms across adds and removes, and follows a missing parent', async () => {
    const zk = await connect();
    let children: string[] | undefined;
    const unwatch = watchChildren(zk, '/dir', (c) => (children = c));
    await waitFor('initial []', () => children?.length === 0);

    await zk.create('/dir', buf(''));
    await zk.create('/dir/b', buf(''));
    await waitFor('[b]', () => children?.join() === 'b');
    await zk.create('/dir/a', buf(''));
    await waitFor('[a,b]', () => children?.join() === 'a,b');
    await zk.create('/dir/c', buf(''));
    await waitFor('[a,b,c]', () => children?.join() === 'a,b,c');
    await zk.remove('/dir/b');
    await waitFor('[a,c]', () => children?.join() === 'a,c');
    unwatch();
  });

  it('TreeCache follows adds, updates and removes of children', async () => {
    const zk = await connect();
    await zk.mkdirp('/tree');
    const cache = new TreeCache(zk, '/tree', 1);
    cache.start();
    try {
      const names = () =>
        cache
          .children('/tree')
          .map(([n]) => n)
          .join();
      await waitFor('root cached', () => cache.get('/tree') !== undefined);
      expect(cache.fresh).toBe(true);

      await zk.create('/tree/x', buf('x0'));
      await zk.create('/tree/y', buf('y0'));
      await waitFor('x,y', () => names() === 'x,y');
      await zk.set('/tree/x', buf('x1'), 0);
      await waitFor('x updated', () => cache.get('/tree/x')?.data.toString() === 'x1');
      expect(cache.get('/tree/x')?.version).toBe(1);

      await zk.remove('/tree/y');
      await waitFor('y removed', () => names() === 'x');
      expect(cache.get('/tree/y')).toBeUndefined();

      await zk.create('/tree/z', buf('z0'));
      await waitFor('x,z', () => names() === 'x,z');
      expect(cache.get('/tree/z')?.data.toString()).toBe('z0');
    } finally {
      cache.stop();
    }
  });

  it('json codec round-trips through ZooKeeper and refuses a newer schemaVersion', async () => {
    const zk = await connect();
    await zk.create('/doc', encodeJson({ name: 'svc', count: 3 }, '/doc'));
    const doc = decodeJson<{ name: string; count: number }>((await zk.get('/doc')).data, '/doc');
    expect(doc).toEqual({ name: 'svc', count: 3 });

    await zk.set('/doc', Buffer.from(JSON.stringify({ schemaVersion: 999, name: 'future' })), -1);
    const stored = (await zk.get('/doc')).data;
    expect(() => decodeJson(stored, '/doc')).toThrow(CodecError);
    expect(() => decodeJson(stored, '/doc')).toThrow(/schemaVersion 999/);
  });
});
