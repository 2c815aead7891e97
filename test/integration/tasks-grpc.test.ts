import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { loadProto } from '../../src/runtime/index.js';
import type { ProtoGrpcType } from '../../src/gen/scheduler.js';
import type { SchedulerClient } from '../../src/gen/thales/v1/Scheduler.js';
import type { WatchTasksResponse__Output } from '../../src/gen/thales/v1/WatchTasksResponse.js';
import { startCluster, useZooKeeper, waitFor } from '../harness/index.js';
import { startSimAgents } from '../harness/sim-agent.js';
import { shortAgentGraces } from '../harness/tasks-cluster.js';

const zk = useZooKeeper();
shortAgentGraces();

function client(port: number): SchedulerClient {
  const proto = loadProto<ProtoGrpcType>('scheduler.proto');
  return new proto.thales.v1.Scheduler(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as SchedulerClient;
}

/** Promisifies one unary call. */
function rpc<Req, Res>(c: SchedulerClient, method: string, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (
      c as unknown as Record<
        string,
        (r: Req, cb: (e: grpc.ServiceError | null, v: Res) => void) => void
      >
    )[method]!;
    fn.call(c, req, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

describe('Scheduler gRPC: requests, deploys, tasks, agents and WatchTasks', () => {
  it('does what HTTP does, watches task changes on a follower, and refuses bad input', async () => {
    const cluster = await startCluster(zk());
    startSimAgents(cluster, ['sim-a']);
    const leader = await cluster.waitForLeader();
    const follower = cluster.replicas.find((r) => r.id !== leader.replicaId)!;
    const onFollower = client(follower.grpcPort);
    try {
      // Watch first, on a follower: it sees every task of the request reach TASK_RUNNING.
      const seen = new Map<string, string>();
      const kinds: string[] = [];
      const watch = onFollower.WatchTasks({ requestId: 'grpc' });
      watch.on('data', (event: WatchTasksResponse__Output) => {
        kinds.push(event.kind);
        if (event.task) seen.set(event.task.taskId, event.task.state);
      });
      watch.on('error', () => undefined);

      const saved = await rpc<
        object,
        { request: { id: string; instances: number }; state: string }
      >(onFollower, 'SaveRequest', {
        id: 'grpc',
        requestType: 'SERVICE',
        instances: 2,
        agentPlacement: 'GREEDY',
      });
      expect(saved.request).toMatchObject({ id: 'grpc', instances: 2 });
      expect(saved.state).toBe('ACTIVE');
      await rpc(onFollower, 'SubmitDeploy', {
        requestId: 'grpc',
        id: 'v1',
        command: 'sleep',
        arguments: ['100'],
        resources: { cpus: 0.1, memoryMb: 16, numPorts: 1 },
      });
      await waitFor('2 tasks seen running through WatchTasks', () =>
        seen.size === 2 && [...seen.values()].every((s) => s === 'TASK_RUNNING') ? true : undefined,
      );
      const listed = await rpc<object, { tasks: { taskId: string; ports: number[] }[] }>(
        onFollower,
        'ListActiveTasks',
        { agentId: 'sim-a' },
      );
      expect(listed.tasks.map((t) => t.taskId).sort()).toEqual([...seen.keys()].sort());
      const agents = await rpc<object, { agents: { agentId: string; state: string }[] }>(
        onFollower,
        'ListAgents',
        {},
      );
      expect(agents.agents).toEqual([
        expect.objectContaining({ agentId: 'sim-a', state: 'ACTIVE' }),
      ]);
      // Nothing existed when the watch began: an empty snapshot, then changes only.
      expect(kinds[0]).toBe('SYNCED');
      expect(new Set(kinds.slice(1))).toEqual(new Set(['CHANGED']));
      watch.cancel();

      // Bad input: INVALID_ARGUMENT naming the field, NOT_FOUND for an unknown request.
      const before = await rpc<object, { requests: unknown[] }>(onFollower, 'ListRequests', {});
      await expect(
        rpc(onFollower, 'SaveRequest', { id: 'neg', requestType: 'SERVICE', instances: -1 }),
      ).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringContaining('instances'),
      });
      await expect(
        rpc(onFollower, 'SubmitDeploy', {
          requestId: 'grpc',
          id: 'v2',
          command: 'x',
          resources: { cpus: -2 },
        }),
      ).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: expect.stringContaining('deploy.resources.cpus'),
      });
      await expect(
        rpc(onFollower, 'SubmitDeploy', { requestId: 'ghost', id: 'v1', command: 'x' }),
      ).rejects.toMatchObject({
        code: grpc.status.NOT_FOUND,
        details: expect.stringContaining('ghost'),
      });
      // Malformed protobuf: bytes the decoder refuses (an unknown field of wire type 7), and
      // bytes it decodes leniently into an empty message (then validation names the field).
      const raw = new grpc.Client(
        `127.0.0.1:${follower.grpcPort}`,
        grpc.credentials.createInsecure(),
      );
      const send = (bytes: number[]): Promise<grpc.ServiceError | null> =>
        new Promise((resolve) => {
          raw.makeUnaryRequest(
            '/thales.v1.Scheduler/SaveRequest',
            (b: Buffer) => b,
            (b: Buffer) => b,
            Buffer.from(bytes),
            (err) => resolve(err),
          );
        });
      const refusedByDecoder = await send([0x7f, 0x01]);
      expect(refusedByDecoder?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(refusedByDecoder?.details).toContain('malformed protobuf');
      const lenient = await send([0x0f, 0x01]);
      expect(lenient?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(lenient?.details).toContain('id: ');
      raw.close();
      const after = await rpc<object, { requests: unknown[] }>(onFollower, 'ListRequests', {});
      expect(after).toEqual(before);
    } finally {
      onFollower.close();
    }
  });
});
