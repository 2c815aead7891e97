import http from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ClusterStateView } from './cluster-state.js';
import { errorAnswers, listen } from '../runtime/index.js';
import { ApiError } from './errors.js';
import { NO_QUERY, parseQuery, readNoBody } from './route-inputs.js';

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

/**
 * The replica's own routes: state, health, metrics, step-down (and the debug probe). `/health`
 * and `/metrics` ignore their query (load balancers and scrapers add their own parameters);
 * the `/api` routes refuse any they do not read.
 */
export function makeCoreRouter(backend: SchedulerBackend, registry: Registry): Router {
  const router = new Router();
  router.get('/api/state', (ctx) => {
    parseQuery(ctx, NO_QUERY);
    ctx.body = backend.state();
  });
  router.get('/health', (ctx) => {
    const state = backend.state();
    const healthy = state.role === 'LEADER' || (state.view === 'FRESH' && state.leader !== null);
    ctx.status = healthy ? 200 : 503;
    ctx.body = {
      healthy,
      role: state.role,
      view: state.view,
      leader: state.leader?.replicaId ?? null,
    };
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  });
  router.post('/api/leader/step-down', async (ctx) => {
    parseQuery(ctx, NO_QUERY);
    await readNoBody(ctx);
    ctx.body = await backend.stepDown();
  });
  if (backend.fencedProbe) {
    const probe = backend.fencedProbe.bind(backend);
    router.post('/api/debug/fenced-write', async (ctx) => {
      parseQuery(ctx, NO_QUERY);
      await readNoBody(ctx);
      ctx.body = await probe();
    });
  }
  return router;
}

/**
 * How long the server keeps an idle keep-alive socket, and the idle time it advertises
 * (`Keep-Alive: timeout=…`) — far shorter, so a client always drops an idle socket first.
 * undici (fetch) closes an idle socket at the advertised time minus 2 s
 * (`keepAliveTimeoutThreshold`): with the server's own timeout advertised, the two closings
 * were 2 s apart, and a client starved longer than that (load 35) sent its request on a socket
 * the server was closing ("other side closed"). Here they are ~60 s apart.
 */
const KEEP_ALIVE = { serverMs: 65_000, advertisedS: 5 } as const;

/** Builds the Koa application (exported for in-process tests of the routes). */
export function makeHttpApp(options: Omit<HttpServerOptions, 'host' | 'port'>): Koa {
  const app = new Koa();
  app.use(async (ctx, next) => {
    // Set before the routes run; Node then leaves out its own hint (the server's timeout).
    ctx.set('Keep-Alive', `timeout=${KEEP_ALIVE.advertisedS}`);
    await next();
  });
  app.use(errorAnswers(options.logger));
  for (const router of [
    makeCoreRouter(options.backend, options.registry),
    ...(options.routers ?? []),
  ]) {
    app.use(router.routes()).use(router.allowedMethods());
  }
  app.use((ctx) => {
    throw new ApiError('NOT_FOUND', `no route for ${ctx.method} ${ctx.path}`);
  });
  return app;
}

/** Starts the HTTP API; rejects with a message naming the port if it cannot listen. */
export async function startHttpServer(options: HttpServerOptions): Promise<http.Server> {
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's callback catches (ctx.onerror)
  const server = http.createServer(makeHttpApp(options).callback());
  // Well above the advertised idle time (KEEP_ALIVE). headersTimeout keeps its default: it
  // bounds a request's headers, not an idle socket. Graceful shutdown closes idle sockets
  // itself (src/runtime/http-server.ts).
  server.keepAliveTimeout = KEEP_ALIVE.serverMs;
  await listen(server, options.host, options.port, 'http');
  return server;
}
