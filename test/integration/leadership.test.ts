/**
 * Leadership and LeaderLatch in-process, against a real standalone ZooKeeper (each replica
 * its own Coordinator session): the establish/revoke switch, fencing of a revoked writer,
 * and that repeated step-downs leave nothing behind.
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FenceRejectedError, encodeJson, type Coordinator } from '../../src/coordination/index.js';
import {
  LeaderLatch,
  Leadership,
  type FencedWriter,
  type LeaderService,
} from '../../src/leader/index.js';
import { connectCoordinator, uniqueChroot, useZooKeeper, waitFor } from '../harness/index.js';

const zookeeper = useZooKeeper(1);
const silent = pino({ level: 'silent' });

/** A leader-only service that records its switch. */
class RecordingService implements LeaderService {
  readonly name = 'recording';
  readonly events: string[] = [];
  writer: FencedWriter | undefined;
  establishLeadership(term: number, writer: FencedWriter): void {
    this.events.push(`establish:${term}`);
    this.writer = writer;
  }
  revokeLeadership(): void {
    this.events.push('revoke');
  }
}

async function replica(chroot: string, id: string) {
  const zk = await connectCoordinator(zookeeper().connectString, chroot, 4_000);
  const identity = { replicaId: id, httpAddress: `${id}:1`, grpcAddress: `${id}:2` };
  const leadership = new Leadership(zk, identity, silent, new Registry());
  const service = new RecordingService();
  leadership.register(service);
  return { id, zk, leadership, service };
}

const listeners = (zk: Coordinator) =>
  (['session', 'expired', 'reconnected', 'disconnected'] as const).map((e) => zk.listenerCount(e));

describe('Leadership (in-process, real ZooKeeper)', () => {
  it('exactly one leads; step-down hands over with a higher term and fences the old writer', async () => {
    const chroot = uniqueChroot();
    const a = await replica(chroot, 'a');
    const b = await replica(chroot, 'b');
    a.leadership.start();
    await waitFor('a to lead', () => a.leadership.status.role === 'LEADER');
    b.leadership.start();
    const termA = a.leadership.status.term as number;
    // b joins behind a and stays a follower.
    await waitFor('b in the latch', async () => (await a.zk.children('/leader')).length === 3);
    expect(b.leadership.status.role).toBe('FOLLOWER');
    expect(a.service.events).toEqual([`establish:${termA}`]);

    const oldWriter = a.service.writer as FencedWriter;
    await oldWriter.write([{ op: 'create', path: '/proof', data: encodeJson({ by: 'a' }) }]);

    await a.leadership.stepDown(true);
    await waitFor('b to lead', () => b.leadership.status.role === 'LEADER');
    const termB = b.leadership.status.term as number;
    expect(termB).toBe(termA + 1);
    expect(a.leadership.status.role).toBe('FOLLOWER');
    expect(a.service.events).toEqual([`establish:${termA}`, 'revoke']);
    expect(b.service.events).toEqual([`establish:${termB}`]);

    // The revoked leadership's writer is refused by ZooKeeper, and nothing lands.
    const err = await oldWriter
      .write([{ op: 'set', path: '/proof', data: encodeJson({ by: 'a-again' }), version: -1 }])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FenceRejectedError);
    expect(JSON.parse((await b.zk.get('/proof')).data.toString())).toMatchObject({ by: 'a' });
    await b.service.writer?.write([
      { op: 'set', path: '/proof', data: encodeJson({ by: 'b' }), version: -1 },
    ]);

    // a rejoined at the back: when b steps down, a leads again, in a higher term still.
    await b.leadership.stepDown(true);
    await waitFor('a to lead again', () => a.leadership.status.role === 'LEADER');
    expect(a.leadership.status.term).toBe(termB + 1);
  });

  it('a replica that cannot establish steps aside: another leads, and it rejoins as follower', async () => {
    const chroot = uniqueChroot();
    const a = await replica(chroot, 'a');
    // a's services fail to start (as on a ZooKeeper timeout under load) until b leads: a
    // rejoins after its back-off meanwhile and steps aside again each time, whenever b joins.
    let failing = true;
    a.leadership.register({
      name: 'flaky',
      establishLeadership() {
        if (failing) throw new Error('OPERATION_TIMEOUT (simulated)');
      },
      revokeLeadership() {},
    });
    a.leadership.start();
    await waitFor('a to fail, revoke what started and leave the latch', async () =>
      a.service.events.includes('revoke') &&
      (await a.zk.children('/leader')).every((n) => !n.startsWith('latch-'))
        ? true
        : undefined,
    );
    expect(a.leadership.status.role).toBe('FOLLOWER');
    const b = await replica(chroot, 'b');
    b.leadership.start();
    await waitFor('b to lead', () => b.leadership.status.role === 'LEADER');
    failing = false;
    // a comes back after its back-off, behind b: a follower, not a second leader.
    await waitFor(
      'a back in the latch',
      async () =>
        (await a.zk.children('/leader')).filter((n) => n.startsWith('latch-')).length === 2,
    );
    expect(a.leadership.status.role).toBe('FOLLOWER');
    // When b steps down, a leads (its service works now), in a higher term.
    const termB = b.leadership.status.term as number;
    await b.leadership.stepDown(false);
    await waitFor('a to lead', () => a.leadership.status.role === 'LEADER');
    expect(a.leadership.status.term).toBeGreaterThan(termB);
  });

  it('a step-down whose revoke hangs still deletes the latch: the follower leads without waiting for the session', async () => {
    const chroot = uniqueChroot();
    const a = await replica(chroot, 'a');
    // A service whose revoke does not finish until released (a slow teardown).
    let release: () => void = () => undefined;
    a.leadership.register({
      name: 'slow-to-stop',
      establishLeadership() {},
      revokeLeadership: () => new Promise<void>((resolve) => (release = resolve)),
    });
    a.leadership.start();
    await waitFor('a to lead', () => a.leadership.status.role === 'LEADER');
    const b = await replica(chroot, 'b');
    b.leadership.start();
    await waitFor('b in the latch', async () => (await a.zk.children('/leader')).length === 3);
    const termA = a.leadership.status.term as number;

    const steppingDown = a.leadership.stepDown(false, 200);
    // b leads while a's revoke is still hanging: the session (4 s) never had to expire.
    await waitFor('b to lead', () => b.leadership.status.role === 'LEADER', { timeoutMs: 3_000 });
    expect(b.leadership.status.term).toBe(termA + 1);
    expect(a.leadership.status.role).toBe('LEADER'); // its revoke has not returned yet
    release();
    await steppingDown;
    expect(a.leadership.status.role).toBe('FOLLOWER');
    expect((await a.zk.children('/leader')).filter((n) => n.startsWith('latch-'))).toHaveLength(1);
  });

  it('a latch that rejoins many times keeps one znode and no extra listeners', async () => {
    const chroot = uniqueChroot();
    const zk = await connectCoordinator(zookeeper().connectString, chroot, 4_000);
    const latch = new LeaderLatch(
      zk,
      { replicaId: 'x', httpAddress: 'h', grpcAddress: 'g' },
      silent,
    );
    let elected = 0;
    latch.on('elected', () => elected++);
    latch.start();
    await waitFor('elected', () => elected === 1);
    const baseline = listeners(zk);

    for (let i = 0; i < 5; i++) {
      await latch.rejoin();
      await waitFor(`elected again (${i})`, () => elected === i + 2);
    }
    const names = (await zk.children('/leader')).filter((n) => n.startsWith('latch-'));
    expect(names).toHaveLength(1);
    expect(listeners(zk)).toEqual(baseline);

    await latch.leave();
    expect((await zk.children('/leader')).filter((n) => n.startsWith('latch-'))).toEqual([]);
  });
});
