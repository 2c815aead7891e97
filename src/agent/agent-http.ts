import { existsSync, statSync } from 'node:fs';
import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { CodedError, errorAnswers } from '../runtime/index.js';
import { type WorkDirLayout, isSafeTaskId } from './sandbox-layout.js';
import { listDir, readChunk, resolveSandboxPath } from './sandbox-files.js';

/** What the agent's HTTP endpoint needs from the agent. */
export interface AgentHttpBackend {
  agentId: string;
  layout: WorkDirLayout;
  registry: Registry;
  logger: Logger;
  connected(): boolean;
  tasks(): { taskId: string; state: string }[];
}

/** The agent's Koa app: /health, /metrics, /tasks and sandbox reads (the leader proxies these). */
export function makeAgentHttpApp(b: AgentHttpBackend): Koa {
  const app = new Koa();
  app.use(errorAnswers(b.logger));
  const router = new Router();
  router.get('/health', (ctx) => {
    ctx.body = { healthy: true, agentId: b.agentId, connected: b.connected() };
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = b.registry.contentType;
    ctx.body = await b.registry.metrics();
  });
  router.get('/tasks', (ctx) => {
    ctx.body = { agentId: b.agentId, tasks: b.tasks() };
  });
  router.get('/sandbox/:taskId/read', (ctx) => {
    const root = sandboxOf(b.layout, ctx.params.taskId ?? '');
    const rel = queryString(ctx.query.path, 'path');
    const file = resolveSandboxPath(root, rel);
    if (statSync(file).isDirectory())
      throw new CodedError('INVALID_ARGUMENT', 'path names a directory', { field: 'path' });
    const offset = queryInt(ctx.query.offset, 'offset', 0);
    const length = queryInt(ctx.query.length, 'length', 65_536);
    ctx.body = readChunk(file, offset, length);
  });
  router.get('/sandbox/:taskId/files', (ctx) => {
    const root = sandboxOf(b.layout, ctx.params.taskId ?? '');
    const rel = typeof ctx.query.path === 'string' && ctx.query.path !== '' ? ctx.query.path : '.';
    const dir = resolveSandboxPath(root, rel);
    if (!statSync(dir).isDirectory())
      throw new CodedError('INVALID_ARGUMENT', 'path names a file', { field: 'path' });
    ctx.body = { taskId: ctx.params.taskId, currentDirectory: rel, files: listDir(dir, root) };
  });
  app.use(router.routes()).use(router.allowedMethods());
  app.use((ctx) => {
    throw new CodedError('NOT_FOUND', `no route for ${ctx.method} ${ctx.path}`);
  });
  return app;
}

function sandboxOf(layout: WorkDirLayout, taskId: string): string {
  if (!isSafeTaskId(taskId))
    throw new CodedError('INVALID_ARGUMENT', 'taskId is not a valid task id', { field: 'taskId' });
  const dir = layout.sandbox(taskId);
  if (!existsSync(dir)) throw new CodedError('NOT_FOUND', `no sandbox for task ${taskId}`);
  return dir;
}

function queryString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '')
    throw new CodedError('INVALID_ARGUMENT', `${field} is required`, { field });
  return value;
}

function queryInt(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(n) || n < 0)
    throw new CodedError('INVALID_ARGUMENT', `${field} must be a non-negative integer`, { field });
  return n;
}
