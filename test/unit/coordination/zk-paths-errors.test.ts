import zookeeper from 'node-zookeeper-client';
import { describe, expect, it } from 'vitest';
import {
  PERSISTENT_DIRS,
  ZK_RETRY_POLICY,
  ZkError,
  isValidChroot,
  latchSequence,
  toZkError,
  zkPaths,
} from '../../../src/coordination/index.js';

describe('zk paths', () => {
  it('parses latch sequence numbers and rejects other names', () => {
    expect(latchSequence('latch-0000000012')).toBe(12);
    expect(latchSequence('latch-0000000000')).toBe(0);
    expect(latchSequence('term')).toBeNaN();
    expect(latchSequence('heartbeat')).toBeNaN();
    expect(latchSequence('latch-')).toBeNaN();
    expect(latchSequence('xlatch-0001')).toBeNaN();
  });

  it('orders latch names numerically, not by string', () => {
    const names = ['latch-0000000010', 'latch-0000000002', 'latch-0000000100'];
    expect(names.sort((a, b) => latchSequence(a) - latchSequence(b))).toEqual([
      'latch-0000000002',
      'latch-0000000010',
      'latch-0000000100',
    ]);
  });

  it('validates chroots', () => {
    for (const ok of ['/thales', '/t-abc123', '/a/b.c/d_e']) expect(isValidChroot(ok)).toBe(true);
    for (const bad of ['', '/', 'thales', '/thales/', '//x', '/a b', '/a/../b/']) {
      expect(isValidChroot(bad), bad).toBe(false);
    }
  });

  it('keeps the latch under the persistent leader directory', () => {
    expect(zkPaths.leaderLatchPrefix.startsWith(`${zkPaths.leaderDir}/`)).toBe(true);
    expect(PERSISTENT_DIRS).toContain(zkPaths.leaderDir);
    expect(zkPaths.replica('r1')).toBe('/replicas/r1');
  });
});

/** What node-zookeeper-client throws: an object with a numeric code (typings omit create). */
const clientException = (code: number) => Object.assign(new Error('zk'), { getCode: () => code });

describe('zk errors', () => {
  it('maps client exceptions to typed codes with the path', () => {
    const err = toZkError(clientException(zookeeper.Exception.BAD_VERSION), '/a', 2);
    expect(err).toBeInstanceOf(ZkError);
    expect(err.code).toBe('BAD_VERSION');
    expect(err.path).toBe('/a');
    expect(err.opIndex).toBe(2);
    expect(err.retryable).toBe(false);
    expect(toZkError(new Error('boom'), '/b').code).toBe('OTHER');
    expect(toZkError(err, '/other')).toBe(err);
  });

  it('retries only transient errors', () => {
    const retryable = Object.entries(ZK_RETRY_POLICY)
      .filter(([, p]) => p.retryable)
      .map(([c]) => c)
      .sort();
    expect(retryable).toEqual([
      'CONNECTION_LOSS',
      'NOT_CONNECTED',
      'OPERATION_TIMEOUT',
      'SESSION_MOVED',
    ]);
    for (const p of Object.values(ZK_RETRY_POLICY)) expect(p.retryable).toBe(p.backoffMs > 0);
  });
});
