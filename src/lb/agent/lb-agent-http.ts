import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { CodedError, errorAnswers } from '../../runtime/index.js';

/** What the lb-agent's HTTP endpoint needs from the agent. */
export interface LbAgentHttpBackend {
  registry: Registry;
  logger: Logger;
  /** `/health`'s body; 200 when `healthy`, else 503. */
  health(): { healthy: boolean; connected: boolean; bootstrapped: boolean };
  /** `/status`'s body. */
  status(): Record<string, unknown>;
}

/** The lb-agent's Koa app: /metrics, /health, /status on `--http-port`. */
export function makeLbAgentHttpApp(b: LbAgentHttpBackend): Koa {
  const app = new Koa();
  app.use(errorAnswers(b.logger));
  const router = new Router();
  router.get('/metrics', async (ctx) => {
    ctx.type = b.registry.contentType;
    ctx.body = await b.registry.metrics();
  });
  router.get('/health', (ctx) => {
    const health = b.health();
    ctx.status = health.healthy ? 200 : 503;
    ctx.body = health;
  });
  router.get('/status', (ctx) => {
    ctx.body = b.status();
  });
  app.use(router.routes()).use(router.allowedMethods());
  app.use((ctx) => {
    throw new CodedError('NOT_FOUND', `no route for ${ctx.method} ${ctx.path}`);
  });
  return app;
}
