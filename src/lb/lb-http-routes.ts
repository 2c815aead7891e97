import Router from '@koa/router';
import { readJsonBody } from '../runtime/index.js';
import type { LbApi } from './lb-api.js';

/**
 * HTTP views of the load-balancer state, on every replica, plus submit and cancel (the same
 * validation as gRPC): GET /api/lb/services[/:id], GET /api/lb/requests/:id,
 * GET /api/lb/groups[/:group], POST /api/lb/requests, DELETE /api/lb/requests/:id.
 */
export function makeLbRouter(api: LbApi): Router {
  const router = new Router({ prefix: '/api/lb' });
  router.get('/services', async (ctx) => {
    ctx.body = await api.listServices();
  });
  router.get('/services/:serviceId', async (ctx) => {
    ctx.body = await api.getService(ctx.params.serviceId);
  });
  router.get('/requests/:requestId', async (ctx) => {
    ctx.body = await api.getRequest(ctx.params.requestId);
  });
  router.delete('/requests/:requestId', async (ctx) => {
    ctx.body = await api.cancel(ctx.params.requestId);
  });
  router.post('/requests', async (ctx) => {
    ctx.body = await api.submit(await readJsonBody(ctx.req));
  });
  router.get('/groups', async (ctx) => {
    ctx.body = await api.listGroups();
  });
  router.get('/groups/:group', async (ctx) => {
    ctx.body = await api.getGroup(ctx.params.group);
  });
  return router;
}
