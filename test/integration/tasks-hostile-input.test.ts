/**
 * Every HTTP route and gRPC method of a real replica (real ZooKeeper, a simulated agent, a
 * running task) gets generated hostile input: `..`, `%00`, `/`, 5,000-character ids, unicode,
 * random and oversized JSON, wrong types, unknown fields, malformed protobuf. Nothing may
 * answer a server failure (5xx, gRPC INTERNAL/UNKNOWN/UNIMPLEMENTED), and the desired and
 * actual state in ZooKeeper must be exactly as before (invariant 7).
 */
import * as grpc from '@grpc/grpc-js';
import type Router from '@koa/router';
import fc from 'fast-check';
import path from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { makeCoreRouter } from '../../src/api/index.js';
import { Coordinator } from '../../src/coordination/index.js';
import { makeLbExtensionFactory } from '../../src/lb/index.js';
import { loadProto, protoDir } from '../../src/runtime/index.js';
import { type ReplicaContext, makeTasksExtensionFactory } from '../../src/scheduler/index.js';
import { type TestCluster, startCluster, useZooKeeper, waitFor } from '../harness/index.js';
import { startSimAgents } from '../harness/sim-agent.js';
import { callJson, createService, waitRunning } from '../harness/tasks-cluster.js';
import {
  SEGMENT_EXAMPLES,
  SERVER_FAILURES,
  hostileBody,
  hostileMessage,
  hostileQuery,
  hostileSegment,
  sendGrpc,
  sendRaw,
} from './tasks-hostile-inputs.js';

const zk = useZooKeeper();

interface Route {
  method: string;
  path: string;
}

/** Every route a replica serves, from the same routers it builds (debug routes included). */
function servedRoutes(): Route[] {
  const logger = pino({ level: 'silent' });
  const registry = new Registry();
  const unstarted = new Coordinator({
    connectString: '127.0.0.1:1',
    chroot: '/unused',
    sessionTimeoutMs: 1_000,
    logger,
  });
  const config = { matcherThreads: 1 };
  const replica = { zk: unstarted, logger, registry, config } as unknown as ReplicaContext;
  const backend = {
    state: () => {
      throw new Error('not called');
    },
    stepDown: () => Promise.resolve({ steppedDown: false }),
    fencedProbe: () => Promise.resolve({ term: 0, accepted: false }),
  };
  const routers: Router[] = [
    makeCoreRouter(backend, registry),
    ...[makeLbExtensionFactory(), makeTasksExtensionFactory()].flatMap(
      (f) => f(replica).routers ?? [],
    ),
  ];
  return routers.flatMap((router) =>
    router.stack.flatMap((layer) =>
      layer.methods
        .filter((m) => m !== 'HEAD')
        .map((method) => ({ method, path: String(layer.path) })),
    ),
  );
}

/** Every znode of the chroot but the ones that change by themselves (latch, heartbeat, replicas). */
async function snapshotState(cluster: TestCluster): Promise<Record<string, string>> {
  const coordinator = await cluster.coordinator();
  const out: Record<string, string> = {};
  const walk = async (znode: string): Promise<void> => {
    if (/^\/leader\/(latch-|heartbeat)|^\/replicas\//.test(znode)) return;
    const node = await coordinator.getOrNull(znode);
    if (node) out[znode] = describeZnode(znode, node.version, node.data.toString('utf8'));
    for (const child of await coordinator.children(znode).catch(() => [] as string[])) {
      await walk(znode === '/' ? `/${child}` : `${znode}/${child}`);
    }
  };
  await walk('/');
  return out;
}

/**
 * A znode as the comparison sees it. An agent's record is rewritten when its agent registers
 * again (a new `registeredAt`, a new version): the in-process simulated agent does so when a
 * loaded machine starves this worker past its heartbeat timeout, which no hostile input
 * causes. Its other fields (state, resources, what a hostile freeze or decommission would
 * change) are still compared.
 */
function describeZnode(znode: string, version: number, data: string): string {
  if (!/^\/agents\/[^/]+$/.test(znode)) return `v${version} ${data}`;
  const record = JSON.parse(data) as Record<string, unknown>;
  delete record.registeredAt;
  return JSON.stringify(record);
}

/** Ids that exist, so hostile bodies also reach the routes past their path checks. */
function knownSegment(route: Route, param: string, taskId: string): string | undefined {
  if (!route.path.startsWith('/api/') || route.path.startsWith('/api/lb')) return undefined;
  if (param === 'taskId') return taskId;
  if (param === 'agentId' || /\/(agents|slaves)\//.test(route.path)) return 'sim-a';
  return 'web';
}

describe('edge validation (real replica, real ZooKeeper)', () => {
  it('no route or method fails or changes state on hostile input', async () => {
    const cluster = await startCluster(zk(), { replicas: 1, debugApi: true });
    const replica = cluster.replicas[0]!;
    startSimAgents(cluster, ['sim-a']);
    await createService(cluster, 'web', 1);
    const [task] = await waitRunning(cluster, 'web', 1);
    const parked = await callJson(`${replica.url}/api/requests`, 'POST', {
      id: 'parked',
      requestType: 'WORKER',
      instances: 0,
    });
    expect(parked.status).toBe(200);
    await waitFor('the deploy of web promoted', async () => {
      const web = await callJson(`${replica.url}/api/requests/request/web`, 'GET');
      return web.body?.activeDeploy?.id === 'd1' && !web.body.pendingDeploy ? true : undefined;
    });
    const before = await snapshotState(cluster);
    // The state must be still by itself, or "unchanged" below would prove nothing.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await snapshotState(cluster)).toEqual(before);

    const routes = servedRoutes();
    expect(routes.length).toBeGreaterThan(25);
    const answers = new Map<string, number>();
    for (const route of routes) {
      const params = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
      const takesBody = route.method !== 'GET';
      const segment = (param: string): fc.Arbitrary<string> => {
        const known = takesBody ? knownSegment(route, param, task!.id) : undefined;
        return known ? fc.oneof(hostileSegment, fc.constant(known)) : hostileSegment;
      };
      await fc.assert(
        fc.asyncProperty(
          fc.tuple(...params.map(segment)),
          hostileQuery,
          takesBody ? hostileBody : fc.constant(undefined),
          async (segments, query, body) => {
            let url = route.path;
            params.forEach((p, i) => (url = url.replace(`:${p}`, segments[i]!)));
            // A route without parameters gets a hostile query or body, or it would be valid.
            if (!params.length && !query && body === undefined) url += '?x-hostile=1';
            else url += query;
            const answer = await sendRaw(replica.httpPort, route.method, url, body);
            const key = `${route.method} ${route.path} ${answer.status}`;
            answers.set(key, (answers.get(key) ?? 0) + 1);
            if (answer.status >= 500) {
              throw new Error(
                `${route.method} ${url.slice(0, 200)} → ${answer.status} ${answer.body}`,
              );
            }
          },
        ),
        {
          numRuns: 25,
          examples: SEGMENT_EXAMPLES.map((seg) => [params.map(() => seg), '', undefined]),
        },
      );
    }
    await expectGrpcRefusals(replica.grpcPort);
    expect(await snapshotState(cluster)).toEqual(before);
    // The routes were reached, not all refused by a catch-all: some answered 400, some 404.
    const statuses = [...answers.keys()].map((k) => Number(k.split(' ').pop()));
    expect(statuses).toContain(400);
    expect(statuses).toContain(404);
  });
});

async function expectGrpcRefusals(port: number): Promise<void> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': 8 * 1024 * 1024,
  });
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(protoDir(), target);
  root.loadSync(['thales/v1/scheduler.proto', 'thales/v1/lb.proto', 'thales/v1/agent.proto']);
  try {
    for (const file of ['scheduler.proto', 'lb.proto', 'agent.proto']) {
      const pkg = loadProto<{
        thales: { v1: Record<string, { service?: grpc.ServiceDefinition }> };
      }>(file).thales.v1;
      for (const service of Object.values(pkg)) {
        for (const method of Object.values(service.service ?? {})) {
          const requestType = root.lookupType(requestTypeName(method));
          const streaming = method.requestStream || method.responseStream;
          await fc.assert(
            fc.asyncProperty(
              fc.oneof(
                { weight: 5, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }) },
                { weight: 5, arbitrary: hostileMessage(requestType) },
                { weight: 1, arbitrary: fc.constant(new Uint8Array(5 * 1024 * 1024)) },
              ),
              async (bytes) => {
                const status = await sendGrpc(client, method.path, method, bytes);
                if (SERVER_FAILURES.has(status.code)) {
                  throw new Error(
                    `${method.path} → ${grpc.status[status.code]}: ${status.details}`,
                  );
                }
              },
            ),
            { numRuns: streaming ? 10 : 25 },
          );
        }
      }
    }
  } finally {
    client.close();
  }
}

/** grpc-js keeps the request type's name only on its (proto-loader) definition. */
function requestTypeName(method: grpc.MethodDefinition<unknown, unknown>): string {
  const type = (method as unknown as { requestType: { type: { name: string } } }).requestType;
  return `thales.v1.${type.type.name}`;
}
