/**
 * A latch join whose create ZooKeeper refuses for good (not a connection loss) used to reject
 * detached: Node 20 ended the replica. Now it is logged and tried again after a back-off.
 */
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { type Coordinator, ZkError, zkPaths } from '../../../src/coordination/index.js';
import { LeaderLatch } from '../../../src/leader/leader-latch.js';

/** Just what a latch uses of a Coordinator: creates fail as told, then succeed. */
class FakeZk extends EventEmitter {
  ready = true;
  readonly session = { sessionId: 's1' };
  readonly failCreates: ZkError[] = [];
  creates = 0;
  private readonly nodes = new Map<string, { ephemeralOwner: string; version: number }>();

  async create(prefix: string): Promise<string> {
    this.creates++;
    const fail = this.failCreates.shift();
    if (fail) throw fail;
    const path = `${prefix}${String(this.nodes.size).padStart(10, '0')}`;
    this.nodes.set(path, { ephemeralOwner: this.session.sessionId, version: 0 });
    return path;
  }
  async children(): Promise<string[]> {
    return [...this.nodes.keys()].map((p) => p.slice(zkPaths.leaderDir.length + 1));
  }
  async getOrNull(path: string) {
    const n = this.nodes.get(path);
    return n ? { ...n, data: Buffer.from('{}') } : null;
  }
  async exists(): Promise<null> {
    return null;
  }
  async remove(path: string): Promise<void> {
    this.nodes.delete(path);
  }
}

function logged() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
  return { lines, logger };
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('LeaderLatch join', () => {
  it('logs a create refused for good, retries, and is elected (no unhandled rejection)', async () => {
    const zk = new FakeZk();
    zk.failCreates.push(new ZkError('NO_NODE', zkPaths.leaderLatchPrefix));
    const { lines, logger } = logged();
    const latch = new LeaderLatch(
      zk as unknown as Coordinator,
      { replicaId: 'r1', httpAddress: 'h:1', grpcAddress: 'h:2' },
      logger,
    );
    let elected = false;
    latch.on('elected', () => (elected = true));
    latch.start();
    await until('elected', () => (elected ? true : undefined));
    expect(zk.creates).toBe(2);
    expect(latch.path).toMatch(/^\/leader\/latch-/);
    const failure = lines.find((l) => l.msg === 'leader latch join failed');
    expect(failure?.level).toBe(50);
    await latch.leave();
  });
});
