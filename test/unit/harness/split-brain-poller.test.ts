import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalReplica } from '../../../src/dev/index.js';
import { waitFor } from '../../../src/dev/wait-for.js';
import { SplitBrainPoller } from '../../harness/split-brain-poller.js';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A replica double: a loopback server answering `/api/state` with whatever `answer` holds. */
async function replicaAnswering(answer: { status: number; body: object }): Promise<LocalReplica> {
  const server = http.createServer((_req, res) =>
    res.writeHead(answer.status).end(JSON.stringify(answer.body)),
  );
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const process = { running: true } as LocalReplica['process'];
  return { id: `r${port}`, httpPort: port, grpcPort: 0, process, url: `http://127.0.0.1:${port}` };
}

const state = (replicaId: string, role: string, term: number) => ({ replicaId, role, term });

describe('SplitBrainPoller (replica doubles on loopback)', () => {
  it('counts a round as complete only when every running replica answered', async () => {
    const failing: { status: number; body: object } = {
      status: 503,
      body: { code: 'UNAVAILABLE' },
    };
    const a = await replicaAnswering({ status: 200, body: state('a', 'LEADER', 1) });
    const b = await replicaAnswering(failing);
    const poller = new SplitBrainPoller([a, b], 20);
    poller.start();
    try {
      await waitFor('a few rounds', () => poller.attemptedRounds >= 5);
      expect(poller.completeRounds).toBe(0);
      failing.status = 200;
      failing.body = state('b', 'FOLLOWER', 1);
      await waitFor('a complete round', () => poller.completeRounds > 0);
      expect(poller.violations).toEqual([]);
    } finally {
      poller.stop();
    }
  });

  it('records two replicas leading in one term, even when seen in different rounds', async () => {
    const first = { status: 200, body: state('a', 'LEADER', 1) };
    const second = { status: 200, body: state('b', 'FOLLOWER', 1) };
    const a = await replicaAnswering(first);
    const b = await replicaAnswering(second);
    const poller = new SplitBrainPoller([a, b], 20);
    poller.start();
    try {
      await waitFor('a complete round', () => poller.completeRounds > 0);
      // Never both at once: a steps back as b claims the same term.
      first.body = state('a', 'FOLLOWER', 1);
      second.body = state('b', 'LEADER', 1);
      const found = await waitFor('a violation', () => poller.violations[0]);
      expect(found.term).toBe(1);
      expect(found.replicaIds.sort()).toEqual(['a', 'b']);
    } finally {
      poller.stop();
    }
  });
});
