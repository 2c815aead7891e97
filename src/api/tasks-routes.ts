import Router from '@koa/router';
import type { Context } from 'koa';
import { toAgentJson, toTaskJson } from '../state/index.js';
import { readJsonBody } from '../runtime/index.js';
import type { TasksApi } from './tasks-api.js';

/** Whether an agent holds a stream to this replica (only the leader knows; else undefined). */
export type AgentConnectivity = (agentId: string) => boolean | undefined;

function param(ctx: Context, name: string): string {
  return (ctx.params as Record<string, string>)[name] ?? '';
}

/**
 * Singularity's REST paths and JSON shapes for requests, deploys, tasks, agents (with the
 * `slave` aliases) and sandbox reads, on every replica.
 */
export function makeTasksRouter(
  api: TasksApi,
  connectivity: AgentConnectivity = () => undefined,
): Router {
  const r = new Router({ prefix: '/api' });
  const body = async (ctx: Context): Promise<unknown> => {
    try {
      return await readJsonBody(ctx.req);
    } catch (err) {
      // The rest of an oversized body is never read: the connection closes after the answer.
      ctx.set('Connection', 'close');
      throw err;
    }
  };

  r.post('/requests', async (ctx) => {
    ctx.body = await api.saveRequest(await body(ctx));
  });
  r.get('/requests', async (ctx) => {
    ctx.body = await api.listRequests();
  });
  r.get('/requests/request/:id', async (ctx) => {
    ctx.body = await api.getRequest(param(ctx, 'id'));
  });
  r.put('/requests/request/:id/scale', async (ctx) => {
    ctx.body = await api.scale(param(ctx, 'id'), await body(ctx));
  });
  for (const action of ['pause', 'unpause'] as const) {
    r.post(`/requests/request/:id/${action}`, async (ctx) => {
      ctx.body = await api.action(param(ctx, 'id'), action, await body(ctx));
    });
  }
  r.delete('/requests/request/:id', async (ctx) => {
    ctx.body = await api.action(param(ctx, 'id'), 'delete', await body(ctx));
  });
  r.post('/deploys', async (ctx) => {
    ctx.body = await api.deploy(await body(ctx));
  });

  r.get('/tasks/active', async (ctx) => {
    ctx.body = (await api.activeTasks()).map(toTaskJson);
  });
  for (const alias of ['agent', 'slave']) {
    r.get(`/tasks/active/${alias}/:agentId`, async (ctx) => {
      ctx.body = (await api.activeTasks(param(ctx, 'agentId'))).map(toTaskJson);
    });
  }
  r.get('/tasks/task/:taskId', async (ctx) => {
    ctx.body = toTaskJson(await api.getTask(param(ctx, 'taskId')));
  });
  r.delete('/tasks/task/:taskId', async (ctx) => {
    ctx.status = 202;
    ctx.body = await api.killTask(param(ctx, 'taskId'), await body(ctx));
  });
  r.get('/history/request/:id/tasks', async (ctx) => {
    ctx.body = (await api.taskHistory(param(ctx, 'id'))).map(toTaskJson);
  });

  for (const alias of ['agents', 'slaves']) {
    r.get(`/${alias}`, async (ctx) => {
      ctx.body = (await api.listAgents()).map((a) => toAgentJson(a, connectivity(a.agentId)));
    });
    for (const action of ['freeze', 'decommission', 'activate'] as const) {
      r.post(`/${alias}/${alias.slice(0, -1)}/:id/${action}`, async (ctx) => {
        const agent = await api.setAgentState(param(ctx, 'id'), action);
        ctx.body = toAgentJson(agent, connectivity(agent.agentId));
      });
    }
  }
  r.get('/sandbox/:taskId/read', async (ctx) => {
    ctx.body = await api.readSandbox(param(ctx, 'taskId'), ctx.query);
  });
  return r;
}
