import Router from '@koa/router';
import { toAgentJson, toTaskJson } from '../state/index.js';
import { READ_QUERY } from './read-consistency.js';
import { NO_QUERY, parseQuery, pathParam, readBody } from './route-inputs.js';
import type { TasksApi } from './tasks-api.js';

/** Whether an agent holds a stream to this replica (only the leader knows; else undefined). */
export type AgentConnectivity = (agentId: string) => boolean | undefined;

/** The header of how old the answering replica's view may be, in ms. */
export const VIEW_AGE_HEADER = 'X-Thales-View-Age-Ms';

/**
 * Singularity's REST paths and JSON shapes for requests, deploys, tasks, agents (with the
 * `slave` aliases) and sandbox reads, on every replica. Path parameters, query and body are
 * validated by {@link TasksApi} (shared with gRPC) before anything is read or written.
 */
export function makeTasksRouter(
  api: TasksApi,
  connectivity: AgentConnectivity = () => undefined,
): Router {
  const router = new Router({ prefix: '/api' });
  // Every answer says how old the replica's view may be (reads answer from memory).
  router.use(async (ctx, next) => {
    await next();
    const age = api.viewAgeMs();
    if (age !== undefined) ctx.set(VIEW_AGE_HEADER, String(age));
  });

  router.post('/requests', async (ctx) => {
    parseQuery(ctx, NO_QUERY);
    ctx.body = await api.saveRequest(await readBody(ctx));
  });
  router.get('/requests', async (ctx) => {
    const { consistency } = parseQuery(ctx, READ_QUERY);
    ctx.body = await api.listRequests(consistency);
  });
  router.get('/requests/request/:id', async (ctx) => {
    const { consistency } = parseQuery(ctx, READ_QUERY);
    ctx.body = await api.getRequest(pathParam(ctx, 'id'), consistency);
  });
  router.put('/requests/request/:id/scale', async (ctx) => {
    parseQuery(ctx, NO_QUERY);
    ctx.body = await api.scale(pathParam(ctx, 'id'), await readBody(ctx));
  });
  for (const action of ['pause', 'unpause'] as const) {
    router.post(`/requests/request/:id/${action}`, async (ctx) => {
      parseQuery(ctx, NO_QUERY);
      ctx.body = await api.action(pathParam(ctx, 'id'), action, await readBody(ctx));
    });
  }
  router.delete('/requests/request/:id', async (ctx) => {
    parseQuery(ctx, NO_QUERY);
    ctx.body = await api.action(pathParam(ctx, 'id'), 'delete', await readBody(ctx));
  });
  router.post('/deploys', async (ctx) => {
    parseQuery(ctx, NO_QUERY);
    ctx.body = await api.deploy(await readBody(ctx));
  });

  router.get('/tasks/active', async (ctx) => {
    const { consistency } = parseQuery(ctx, READ_QUERY);
    ctx.body = (await api.activeTasks(undefined, consistency)).map(toTaskJson);
  });
  for (const alias of ['agent', 'slave']) {
    router.get(`/tasks/active/${alias}/:agentId`, async (ctx) => {
      const { consistency } = parseQuery(ctx, READ_QUERY);
      const tasks = await api.activeTasks(pathParam(ctx, 'agentId'), consistency);
      ctx.body = tasks.map(toTaskJson);
    });
  }
  router.get('/tasks/task/:taskId', async (ctx) => {
    const { consistency } = parseQuery(ctx, READ_QUERY);
    ctx.body = toTaskJson(await api.getTask(pathParam(ctx, 'taskId'), consistency));
  });
  router.delete('/tasks/task/:taskId', async (ctx) => {
    parseQuery(ctx, NO_QUERY);
    const answer = await api.killTask(pathParam(ctx, 'taskId'), await readBody(ctx));
    ctx.status = 202;
    ctx.body = answer;
  });
  router.get('/history/request/:id/tasks', async (ctx) => {
    const { consistency } = parseQuery(ctx, READ_QUERY);
    ctx.body = (await api.taskHistory(pathParam(ctx, 'id'), consistency)).map(toTaskJson);
  });

  for (const alias of ['agents', 'slaves']) {
    router.get(`/${alias}`, async (ctx) => {
      const { consistency } = parseQuery(ctx, READ_QUERY);
      const agents = await api.listAgents(consistency);
      ctx.body = agents.map((agent) => toAgentJson(agent, connectivity(agent.agentId)));
    });
    for (const action of ['freeze', 'decommission', 'activate'] as const) {
      router.post(`/${alias}/${alias.slice(0, -1)}/:id/${action}`, async (ctx) => {
        parseQuery(ctx, NO_QUERY);
        const agent = await api.setAgentState(pathParam(ctx, 'id'), action, await readBody(ctx));
        ctx.body = toAgentJson(agent, connectivity(agent.agentId));
      });
    }
  }
  router.get('/sandbox/:taskId/read', async (ctx) => {
    ctx.body = await api.readSandbox(pathParam(ctx, 'taskId'), { ...ctx.query });
  });
  return router;
}
