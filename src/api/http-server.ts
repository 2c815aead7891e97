import http from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ClusterStateView } from './cluster-state.js';
import { errorAnswers, listen } from '../runtime/index.js';
import { ApiError } from './errors.js';

/** What the HTTP API needs from the replica it runs in. */
export interface SchedulerBackend {
  state(): ClusterStateView;
  /** Steps down if leading; resolves once a follower can take over. */
  stepDown(): Promise<{ steppedDown: boolean }>;
  /** Debug only: attempts a write through the last leadership's fenced path. */
  fencedProbe?(): Promise<{ term: number; accepted: boolean; error?: string }>;
}

/** Options for {@link startHttpServer}. */
export interface HttpServerOptions {
  host: string;
  port: number;
  backend: SchedulerBackend;
  registry: Registry;
  logger: Logger;
  /** Extra routes added by later components (requests, deploys, lb…). */
  routers?: Router[];
}

/** Builds the Koa application (exported for in-process tests of the routes). */
export function makeHttpApp(options: Omit<HttpServerOptions, 'host' | 'port'>): Koa {
  const { backend, registry, logger } = options;
  const app = new Koa();
  app.use(errorAnswers(logger));
  const router = new Router();
  router.get('/api/state', (ctx) => {
    ctx.body = backend.state();
  });
  router.get('/health', (ctx) => {
    const s = backend.state();
    const healthy = s.role === 'LEADER' || (s.view === 'FRESH' && s.leader !== null);
    ctx.status = healthy ? 200 : 503;
    ctx.body = { healthy, role: s.role, view: s.view, leader: s.leader?.replicaId ?? null };
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  });
  router.post('/api/leader/step-down', async (ctx) => {
    ctx.body = await backend.stepDown();
  });
  if (backend.fencedProbe) {
    const probe = backend.fencedProbe.bind(backend);
    router.post('/api/debug/fenced-write', async (ctx) => {
      ctx.body = await probe();
    });
  }
  app.use(router.routes()).use(router.allowedMethods());
  for (const extra of options.routers ?? []) app.use(extra.routes()).use(extra.allowedMethods());
  app.use((ctx) => {
    throw new ApiError('NOT_FOUND', `no route for ${ctx.method} ${ctx.path}`);
  });
  return app;
}

/** Starts the HTTP API; rejects with a message naming the port if it cannot listen. */
export async function startHttpServer(options: HttpServerOptions): Promise<http.Server> {
  const server = http.createServer(makeHttpApp(options).callback());
  // Keep-alive sockets must not hold a graceful shutdown open.
  server.keepAliveTimeout = 5_000;
  await listen(server, options.host, options.port, 'http');
  return server;
}
