import Router from '@koa/router';
import type { DeploysApi } from './deploys-api.js';
import { NO_QUERY, parseQuery, pathParam, readBody } from './route-inputs.js';

/**
 * Singularity's deploy commands and deploy history: `DELETE
 * /api/deploys/deploy/{deployId}/request/{requestId}` (cancel), `POST /api/deploys/update`
 * (advance a step), `POST /api/requests/request/{id}/bounce` (rolling restart), `GET /api/history/request/{id}/deploys` and `…/deploy/{deployId}`.
 */
export function makeDeploysRouter(api: DeploysApi): Router {
  const router = new Router({ prefix: '/api' });
  router.delete('/deploys/deploy/:deployId/request/:requestId', async (ctx) => {
    parseQuery(ctx, NO_QUERY);
    const body = await readBody(ctx);
    ctx.status = 202;
    ctx.body = await api.cancel(pathParam(ctx, 'deployId'), pathParam(ctx, 'requestId'), body);
  });
  router.post('/deploys/update', async (ctx) => {
    parseQuery(ctx, NO_QUERY);
    const body = await readBody(ctx);
    ctx.status = 202;
    ctx.body = await api.update(body);
  });
  router.post('/requests/request/:id/bounce', async (ctx) => {
    parseQuery(ctx, NO_QUERY);
    const body = await readBody(ctx);
    ctx.status = 202;
    ctx.body = await api.bounce(pathParam(ctx, 'id'), body);
  });
  router.get('/history/request/:id/deploys', async (ctx) => {
    parseQuery(ctx, NO_QUERY);
    ctx.body = await api.history(pathParam(ctx, 'id'));
  });
  router.get('/history/request/:id/deploy/:deployId', async (ctx) => {
    parseQuery(ctx, NO_QUERY);
    ctx.body = await api.deploy(pathParam(ctx, 'id'), pathParam(ctx, 'deployId'));
  });
  return router;
}
