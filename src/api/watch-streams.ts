/**
 * WatchTasks and WatchRequests, served by every replica from its {@link StateCache}: a
 * snapshot, one SYNCED, then every change the cache learns, with no gap between snapshot and
 * changes (the snapshot is read at a feed position and the stream follows from it). A stream
 * does not depend on leadership, so it survives a leadership change while this replica stays
 * up, and a ZooKeeper session loss (the cache reads everything again and reports differences).
 */
import * as grpc from '@grpc/grpc-js';
import type { WatchRequestsRequest__Output } from '../gen/thales/v1/WatchRequestsRequest.js';
import type { WatchRequestsResponse } from '../gen/thales/v1/WatchRequestsResponse.js';
import type { WatchTasksRequest__Output } from '../gen/thales/v1/WatchTasksRequest.js';
import type { WatchTasksResponse } from '../gen/thales/v1/WatchTasksResponse.js';
import { toGrpcError } from '../runtime/index.js';
import { parseId, requestIdSchema } from '../state/index.js';
import type { StateCache, StateChange } from './state-cache.js';
import { toRequestParentMessage, toTaskInfo } from './tasks-proto.js';

/**
 * Bytes a stream may hold unsent before it is ended with RESOURCE_EXHAUSTED: a client that
 * stops reading must not make the replica buffer without bound. It can watch again.
 */
export const MAX_WATCH_BUFFER_BYTES = 8 * 1024 * 1024;

/** What a watch sends: its snapshot, and its message for a change (or none). */
interface WatchView<Res> {
  snapshot(): Res[];
  synced: Res;
  onChange(change: StateChange): Res | undefined;
}

/** Serves `WatchTasks`. */
export function serveWatchTasks(
  call: grpc.ServerWritableStream<WatchTasksRequest__Output, WatchTasksResponse>,
  cache: StateCache,
): void {
  const requestId = optionalRequestId(call, call.request.requestId);
  if (requestId === null) return;
  const wanted = (taskRequestId: string): boolean => !requestId || taskRequestId === requestId;
  streamFromCache(call, cache, {
    snapshot: () =>
      cache
        .activeTasks()
        .filter((task) => wanted(task.requestId))
        .map((task) => ({ kind: 'SNAPSHOT', task: toTaskInfo(task) })),
    synced: { kind: 'SYNCED', task: null },
    onChange: (change) =>
      change.type === 'task' && wanted(change.task.requestId)
        ? { kind: change.kind, task: toTaskInfo(change.task) }
        : undefined,
  });
}

/** Serves `WatchRequests`. */
export function serveWatchRequests(
  call: grpc.ServerWritableStream<WatchRequestsRequest__Output, WatchRequestsResponse>,
  cache: StateCache,
): void {
  const requestId = optionalRequestId(call, call.request.requestId);
  if (requestId === null) return;
  streamFromCache(call, cache, {
    snapshot: () =>
      (requestId ? [requestId] : cache.requestIds()).flatMap((id) => {
        const parent = cache.requestParent(id);
        return parent
          ? [{ kind: 'SNAPSHOT', requestId: id, request: toRequestParentMessage(parent) }]
          : [];
      }),
    synced: { kind: 'SYNCED', requestId: '', request: null },
    onChange: (change) => {
      if (change.type !== 'request' || (requestId && change.requestId !== requestId)) return;
      const request = change.parent ? toRequestParentMessage(change.parent) : null;
      return { kind: change.kind, requestId: change.requestId, request };
    },
  });
}

/** The request filter: '' for all, the id, or null once the call was refused. */
function optionalRequestId(
  call: grpc.ServerWritableStream<unknown, unknown>,
  value: string,
): string | null {
  if (!value) return '';
  try {
    return parseId(requestIdSchema, value, 'requestId');
  } catch (err) {
    call.emit('error', toGrpcError(err));
    return null;
  }
}

/** Streams `view` from `cache` until the call ends; a failure ends the call with its status. */
function streamFromCache<Res>(
  call: grpc.ServerWritableStream<unknown, Res>,
  cache: StateCache,
  view: WatchView<Res>,
): void {
  follow(call, cache, view).catch((err: unknown) => call.emit('error', toGrpcError(err)));
}

async function follow<Res>(
  call: grpc.ServerWritableStream<unknown, Res>,
  cache: StateCache,
  view: WatchView<Res>,
): Promise<void> {
  let closed = false;
  let unfollow = (): void => undefined;
  const close = (): void => {
    closed = true;
    unfollow();
  };
  for (const event of ['cancelled', 'close', 'error', 'finish']) call.on(event, close);
  const send = (message: Res): void => {
    if (closed) return;
    if (call.writableLength > MAX_WATCH_BUFFER_BYTES) {
      close();
      call.emit('error', {
        code: grpc.status.RESOURCE_EXHAUSTED,
        details: 'RESOURCE_EXHAUSTED: the client reads too slowly; watch again',
      });
      return;
    }
    call.write(message);
  };
  await cache.whenSynced();
  if (closed) return;
  // Read the snapshot and start following at one feed position, in one turn of the event loop.
  const position = cache.position;
  const snapshot = view.snapshot();
  unfollow = cache.follow(position, (change) => {
    const message = view.onChange(change);
    if (message) send(message);
  });
  for (const message of snapshot) send(message);
  send(view.synced);
}
