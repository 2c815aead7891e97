/**
 * `GET /api/tasks/scheduled[/request/{id}]` and `ListScheduledTasks`: the instances the leader
 * wants launched and has not placed, with the matcher's rejection counts of the last cycle
 * that tried them. Only the leader knows them (its memory, no ZooKeeper), so a follower asks
 * the leader over HTTP for this one read (docs/api.md, "Scheduled tasks"); the leader answers
 * a forwarded read itself or refuses it, so a read never hops twice.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { type CodedError, ERROR_STATUS, type ErrorCode } from '../runtime/index.js';
import { parseId, requestIdSchema } from '../state/index.js';
import type { LeaderView } from './cluster-state.js';
import { ApiError } from './errors.js';
import { NO_QUERY, parseQuery, pathParam } from './route-inputs.js';

/**
 * One pending instance, as both APIs answer it and the leader's board holds it (the one
 * definition: viewSchema below). `pendingSince`: when this leader first wanted it launched
 * (ms since the epoch); `lastTriedAt`: when a cycle last tried to place it; `offers`: the
 * offers that cycle considered (0: no usable agent); `rejections`: offers rejected per
 * reason in that cycle, non-zero counts only.
 */
export type ScheduledTaskView = z.infer<typeof viewSchema>[number];

/** What this replica knows: the leader's board when it leads, else who leads. */
export interface ScheduledTasksSource {
  /** The pending instances when this replica leads; undefined otherwise. */
  local(): readonly ScheduledTaskView[] | undefined;
  /** The leader as this replica's cluster view sees it. */
  leader(): LeaderView | null;
  /** This replica's id (sent along a forwarded read, for the leader's logs). */
  replicaId(): string;
}

/** The header that marks a read forwarded by a follower (the leader does not forward it on). */
export const FORWARDED_HEADER = 'x-thales-forwarded-by';

/** How long a follower waits for the leader's answer. */
const FORWARD_TIMEOUT_MS = 5_000;

const viewSchema = z.array(
  z.object({
    requestId: z.string(),
    deployId: z.string(),
    instanceNo: z.number(),
    resources: z.object({
      cpus: z.number(),
      memoryMb: z.number(),
      diskMb: z.number(),
      numPorts: z.number(),
    }),
    pendingSince: z.number(),
    lastTriedAt: z.number(),
    offers: z.number(),
    rejections: z.record(z.string(), z.number()),
  }),
);
const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** Singularity's `pendingTaskId` object next to Thales' fields (the HTTP shape). */
function toScheduledTaskJson(task: ScheduledTaskView): Record<string, unknown> {
  return {
    pendingTaskId: {
      id: `${task.requestId}-${task.deployId}-${task.pendingSince}-${task.instanceNo}`,
      requestId: task.requestId,
      deployId: task.deployId,
      instanceNo: task.instanceNo,
      createdAt: task.pendingSince,
      nextRunAt: task.lastTriedAt,
    },
    ...task,
  };
}

/** Serves the scheduled-task reads on every replica (leader: memory; follower: the leader). */
export class ScheduledTasksApi {
  constructor(private readonly source: ScheduledTasksSource) {}

  /**
   * The pending instances of `requestId` (validated first) or of every request, oldest first.
   * `forwardedBy` is set when a follower forwarded the read: not leading then is UNAVAILABLE.
   */
  async list(requestId: unknown, forwardedBy?: string): Promise<ScheduledTaskView[]> {
    const rid =
      requestId === undefined ? undefined : parseId(requestIdSchema, requestId, 'requestId');
    const local = this.source.local();
    if (local) return local.filter((t) => rid === undefined || t.requestId === rid);
    if (forwardedBy !== undefined) {
      throw new ApiError('NOT_LEADER', 'this replica does not lead (any more); ask again');
    }
    return this.fromLeader(rid);
  }

  private async fromLeader(rid: string | undefined): Promise<ScheduledTaskView[]> {
    const leader = this.source.leader();
    if (!leader) {
      throw new ApiError('UNAVAILABLE', 'no leader: pending tasks are known to the leader only', {
        retryable: true,
      });
    }
    const path = rid === undefined ? '' : `/request/${encodeURIComponent(rid)}`;
    const url = `http://${leader.httpAddress}/api/tasks/scheduled${path}`;
    let answer: Response;
    try {
      answer = await fetch(url, {
        headers: { [FORWARDED_HEADER]: this.source.replicaId() },
        signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
      });
    } catch (err) {
      throw new ApiError(
        'UNAVAILABLE',
        `leader ${leader.replicaId} did not answer: ${(err as Error).message}`,
        { retryable: true },
        { cause: err },
      );
    }
    const body: unknown = await answer.json().catch(() => undefined);
    if (!answer.ok) throw this.leaderError(leader, answer.status, body);
    const parsed = viewSchema.safeParse(body);
    if (!parsed.success) {
      throw new ApiError('INTERNAL', `leader ${leader.replicaId} answered an unknown shape`);
    }
    return parsed.data;
  }

  /** The leader's refusal, passed on with its code (a lookup miss is the client's). */
  private leaderError(leader: LeaderView, status: number, body: unknown): CodedError {
    const parsed = errorSchema.safeParse(body);
    if (!parsed.success) {
      return new ApiError('UNAVAILABLE', `leader ${leader.replicaId} answered ${status}`, {
        retryable: true,
      });
    }
    const { code, message } = parsed.data.error;
    if (!(code in ERROR_STATUS)) return new ApiError('INTERNAL', `leader: ${code}: ${message}`);
    return new ApiError(code as ErrorCode, message);
  }
}

/** `GET /api/tasks/scheduled` and `GET /api/tasks/scheduled/request/{requestId}`. */
export function makeScheduledTasksRouter(api: ScheduledTasksApi): Router {
  const router = new Router({ prefix: '/api/tasks' });
  const forwardedBy = (ctx: Context): string | undefined => ctx.get(FORWARDED_HEADER) || undefined;
  router.get('/scheduled', async (ctx) => {
    parseQuery(ctx, NO_QUERY);
    ctx.body = (await api.list(undefined, forwardedBy(ctx))).map(toScheduledTaskJson);
  });
  router.get('/scheduled/request/:requestId', async (ctx) => {
    parseQuery(ctx, NO_QUERY);
    const tasks = await api.list(pathParam(ctx, 'requestId'), forwardedBy(ctx));
    ctx.body = tasks.map(toScheduledTaskJson);
  });
  return router;
}
