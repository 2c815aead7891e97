/**
 * WatchTasks and WatchRequests on any replica (real replicas, real ZooKeeper, simulated
 * agents): a snapshot, SYNCED, then changes with no gap — a mirror built from the events alone
 * ends equal to what the API reads — and the streams carry on across a leadership change.
 */
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { ProtoGrpcType } from '../../src/gen/scheduler.js';
import type { SchedulerClient } from '../../src/gen/thales/v1/Scheduler.js';
import type { WatchRequestsResponse__Output } from '../../src/gen/thales/v1/WatchRequestsResponse.js';
import type { WatchTasksResponse__Output } from '../../src/gen/thales/v1/WatchTasksResponse.js';
import { loadProto } from '../../src/runtime/index.js';
import { startCluster, useZooKeeper, waitFor } from '../harness/index.js';
import { startSimAgents } from '../harness/sim-agent.js';
import {
  activeTasks,
  callJson,
  createService,
  shortAgentGraces,
  waitRunning,
} from '../harness/tasks-cluster.js';

const zk = useZooKeeper();
shortAgentGraces();

function client(port: number): SchedulerClient {
  const proto = loadProto<ProtoGrpcType>('scheduler.proto');
  return new proto.thales.v1.Scheduler(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as SchedulerClient;
}

/** The active tasks as a client rebuilds them from WatchTasks events alone. */
class TaskMirror {
  readonly tasks = new Map<string, string>();
  readonly kinds: string[] = [];
  error: grpc.ServiceError | undefined;

  constructor(stream: grpc.ClientReadableStream<WatchTasksResponse__Output>) {
    stream.on('data', (event: WatchTasksResponse__Output) => {
      this.kinds.push(event.kind);
      if (!event.task) return;
      if (event.kind === 'ENDED') this.tasks.delete(event.task.taskId);
      else this.tasks.set(event.task.taskId, event.task.state);
    });
    stream.on('error', (err: grpc.ServiceError) => {
      if (err.code !== grpc.status.CANCELLED) this.error = err;
    });
  }

  /** As `GET /api/tasks/active` shows them: `id=state`, sorted. */
  view(): string[] {
    return [...this.tasks].map(([id, state]) => `${id}=${state}`).sort();
  }
}

describe('watches on any replica', () => {
  it('WatchTasks mirrors the active tasks on every replica, across a leadership change', async () => {
    const cluster = await startCluster(zk());
    startSimAgents(cluster, ['sim-a', 'sim-b']);
    await createService(cluster, 'early', 2);
    await waitRunning(cluster, 'early', 2);
    const clients = cluster.replicas.map((r) => client(r.grpcPort));
    try {
      // Started while tasks exist and more are launching: SNAPSHOT events first, then SYNCED.
      const scaling = callJson(
        `${cluster.replicas[0]!.url}/api/requests/request/early/scale`,
        'PUT',
        {
          instances: 4,
        },
      );
      const mirrors = clients.map((c) => new TaskMirror(c.WatchTasks({ requestId: '' })));
      await scaling;
      const expected = async (): Promise<string[]> =>
        (await activeTasks(cluster)).map((t) => `${t.id}=${t.state}`).sort();
      const converged = async (what: string): Promise<void> => {
        await waitFor(
          what,
          async () => {
            const want = await expected();
            return mirrors.every((m) => JSON.stringify(m.view()) === JSON.stringify(want))
              ? true
              : undefined;
          },
          { timeoutMs: 60_000 },
        );
      };
      await waitRunning(cluster, 'early', 4);
      await converged('every mirror equal to the active tasks');
      for (const m of mirrors) {
        const synced = m.kinds.indexOf('SYNCED');
        expect(synced).toBeGreaterThanOrEqual(0);
        expect(new Set(m.kinds.slice(0, synced))).toEqual(new Set(['SNAPSHOT']));
        expect(m.kinds.slice(synced + 1)).not.toContain('SNAPSHOT');
      }

      // Leadership moves; the streams stay open and keep following.
      const leader = await cluster.waitForLeader();
      const down = await callJson(`${leader.replica.url}/api/leader/step-down`, 'POST');
      expect(down.status).toBe(200);
      await cluster.waitForLeader({ aboveTerm: leader.term });
      await callJson(`${cluster.replicas[1]!.url}/api/requests/request/early/scale`, 'PUT', {
        instances: 1,
      });
      await waitRunning(cluster, 'early', 1);
      await converged('every mirror equal to the active tasks after the leadership change');
      for (const m of mirrors) {
        expect(m.error).toBeUndefined();
        expect(m.kinds).toContain('ENDED');
      }
    } finally {
      for (const c of clients) c.close();
    }
  });

  it('WatchRequests reports a request and its deploys from a follower, then its removal', async () => {
    const cluster = await startCluster(zk());
    startSimAgents(cluster, ['sim-a']);
    const leader = await cluster.waitForLeader();
    const follower = cluster.replicas.find((r) => r.id !== leader.replicaId)!;
    const watcher = client(follower.grpcPort);
    const events: WatchRequestsResponse__Output[] = [];
    const stream = watcher.WatchRequests({ requestId: 'web' });
    stream.on('data', (e: WatchRequestsResponse__Output) => events.push(e));
    stream.on('error', () => undefined);
    try {
      await waitFor('SYNCED', () => (events.some((e) => e.kind === 'SYNCED') ? true : undefined));
      await createService(cluster, 'other', 0);
      await createService(cluster, 'web', 1);
      await waitRunning(cluster, 'web', 1);
      await waitFor('the active deploy d1 seen', () =>
        events.some((e) => e.request?.activeDeploy?.id === 'd1' && !e.request.pendingDeploy)
          ? true
          : undefined,
      );
      await callJson(`${follower.url}/api/requests/request/web`, 'DELETE');
      await waitFor('web REMOVED', () => (events.at(-1)?.kind === 'REMOVED' ? true : undefined));
      expect(events.every((e) => e.requestId === 'web' || e.kind === 'SYNCED')).toBe(true);
      const states = events.filter((e) => e.request).map((e) => e.request!.state);
      expect(states).toContain('ACTIVE');
      expect(states.at(-1)).toBe('DELETING');
    } finally {
      stream.cancel();
      watcher.close();
    }
  });

  it('refuses a bad request id by name', async () => {
    const cluster = await startCluster(zk(), { replicas: 1 });
    const c = client(cluster.replicas[0]!.grpcPort);
    try {
      const refused = await new Promise<grpc.ServiceError>((resolve) => {
        const w = c.WatchTasks({ requestId: '../x' });
        w.on('error', resolve);
        w.on('data', () => undefined);
      });
      expect(refused.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(refused.details).toContain('requestId');
    } finally {
      c.close();
    }
  });
});
