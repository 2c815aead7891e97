/**
 * The transaction-log reader against a real 3-node ensemble: what a client wrote — including
 * while one member was SIGKILLed and after it came back — is exactly what the merged logs
 * replay to, refused multis are marked failed, and the replayed tree equals the live one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Coordinator, ZkError } from '../../../../src/coordination/index.js';
import { ZooKeeperCluster } from '../../../../src/dev/index.js';
import { waitFor } from '../../../../src/dev/wait-for.js';
import { compareTrees } from '../check/index.js';
import { TreeReplay } from './replay.js';
import { mergeMemberLogs, readMemberLog } from './txn-history.js';
import { adler32 } from './txn-log.js';
import { connectReader, dumpTree } from './zk-reader.js';

describe('adler32', () => {
  it('matches the reference value', () => {
    expect(adler32(Buffer.from('Wikipedia')).toString(16)).toBe('11e60398');
  });
});

describe('ZooKeeper transaction logs (real 3-node ensemble)', () => {
  let dir = '';
  let zk: ZooKeeperCluster | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'thales-txnlog-'));
    zk = await ZooKeeperCluster.start(dir, 3, 200);
  });
  afterAll(async () => {
    await zk?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('replays exactly what was committed, across a member killed and restarted', async () => {
    const cluster = zk as ZooKeeperCluster;
    const c: Coordinator = await connectReader(cluster.connectString, '/t');
    const latch = await c.create('/leader/latch-', Buffer.from('r1'), 'ephemeralSequential');
    const fence = { path: latch, version: 0 };
    await c.create('/a', Buffer.from('{"v":1}'));
    await c.multi([{ op: 'create', path: '/b', data: Buffer.from('b') }], fence);
    const refused = c.multi([{ op: 'create', path: '/never', data: Buffer.from('x') }], {
      path: latch,
      version: 7,
    });
    await expect(refused).rejects.toThrow(/fenced out/);
    const victim = cluster.servers[0]!;
    await victim.stop('SIGKILL');
    // A set in flight on the killed member's connection fails with CONNECTION_LOSS and may or
    // may not have landed; sent again (same value, any version) it lands once more, harmlessly.
    // Bounded, and a non-retryable error ends the test at once instead of being retried.
    const setAgain = async (data: Buffer): Promise<void> => {
      const outcome = await waitFor('set /a', async () => {
        try {
          await c.set('/a', data, -1);
          return { ok: true as const };
        } catch (err) {
          if (err instanceof ZkError && err.retryable) throw err; // retried; the timeout says it
          return { err };
        }
      });
      if ('err' in outcome) throw outcome.err;
    };
    for (let i = 0; i < 20; i++) await setAgain(Buffer.from(`{"v":${i + 2}}`));
    await victim.start();
    await c.remove('/b', -1);
    await c.create('/c', Buffer.alloc(0));
    const live = await dumpTree(c);
    await c.close();
    await cluster.stop();

    const dataDirs = cluster.servers.map((s) => path.join(s.options.dir, 'data'));
    const history = mergeMemberLogs(dataDirs.map(readMemberLog), dataDirs);
    expect(history.uncommitted).toEqual([]);
    const tree = new TreeReplay('/t');
    for (const txn of history.committed) tree.apply(txn);
    expect(compareTrees(tree, live)).toEqual([]);
    expect(tree.nodes.get('/a')?.data.toString()).toBe('{"v":21}');
    expect(tree.nodes.has('/never')).toBe(false);
    expect(tree.nodes.has(latch)).toBe(false); // its session closed
    const multis = history.committed.filter((t) => t.multi);
    expect(multis.map((t) => t.failed)).toEqual([false, true]);
    expect(multis[0]?.ops.map((o) => o.type)).toEqual(['check', 'create']);
  });
});
