/**
 * An in-process HTTP server with the tasks routes over a real ZooKeeper chroot (no leader):
 * for tests of validation and of the desired-state writes every replica makes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { onTestFinished } from 'vitest';
import { TasksApi, makeHttpApp, makeTasksRouter } from '../../src/api/index.js';
import { closeHttpServer } from '../../src/runtime/index.js';
import type { Coordinator } from '../../src/coordination/index.js';
import { connectCoordinator, uniqueChroot } from './cluster.js';

export { callJson } from './call-json.js';

/** A running in-process API on its own chroot. */
export interface TasksApiServer {
  url: string;
  zk: Coordinator;
  api: TasksApi;
}

/** Starts the API on a free port; stopped when the test ends. */
export async function startTasksApiServer(connectString: string): Promise<TasksApiServer> {
  const zk = await connectCoordinator(connectString, uniqueChroot());
  const api = new TasksApi(zk);
  const app = makeHttpApp({
    backend: {
      state: () => {
        throw new Error('not used');
      },
      stepDown: () => Promise.resolve({ steppedDown: false }),
    },
    registry: new Registry(),
    logger: pino({ level: 'silent' }),
    routers: [makeTasksRouter(api)],
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  onTestFinished(() => closeHttpServer(server, 500));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, zk, api };
}
