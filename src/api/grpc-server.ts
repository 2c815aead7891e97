import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ProtoGrpcType } from '../gen/scheduler.js';
import type { SchedulerHandlers } from '../gen/thales/v1/Scheduler.js';
import type { SchedulerBackend } from './http-server.js';
import { toClusterStateMessage } from './state-message.js';
import { loadProto } from './proto-loader.js';
import { withTolerantDecoding } from './grpc-malformed.js';

/** Options for {@link startGrpcServer}. */
export interface GrpcServerOptions {
  host: string;
  port: number;
  backend: SchedulerBackend;
  logger: Logger;
  /** Lets later components add their services (AgentService, LoadBalancer). */
  addServices?: (server: grpc.Server) => void;
  /** More `Scheduler` RPCs from later components (requests, deploys, tasks, agents). */
  schedulerHandlers?: Partial<SchedulerHandlers>;
}

/** Starts the gRPC server with the `Scheduler` service; rejects naming the port on failure. */
export async function startGrpcServer(options: GrpcServerOptions): Promise<grpc.Server> {
  const proto = loadProto<ProtoGrpcType>('scheduler.proto');
  const server = new grpc.Server({
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
  });
  // RPCs nobody provides answer UNIMPLEMENTED (grpc-js' default handler).
  const handlers = {
    ...options.schedulerHandlers,
    GetState(_call, callback) {
      callback(null, toClusterStateMessage(options.backend.state()));
    },
  } as SchedulerHandlers;
  server.addService(withTolerantDecoding(proto.thales.v1.Scheduler.service), handlers);
  options.addServices?.(server);
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(
      `${options.host}:${options.port}`,
      grpc.ServerCredentials.createInsecure(),
      (err) => {
        if (err) {
          const inUse = /EADDRINUSE|address already in use|No address added/i.test(err.message);
          reject(
            new Error(
              inUse
                ? `grpc.port ${options.port} is already in use on ${options.host}`
                : `grpc: cannot listen on ${options.host}:${options.port}: ${err.message}`,
            ),
          );
        } else resolve();
      },
    );
  });
  return server;
}

/** Stops the gRPC server, letting calls in flight finish for up to `graceMs`. */
export async function stopGrpcServer(server: grpc.Server, graceMs = 2_000): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Calls `onClosed` when a bidirectional stream ends in any way (client half-close, error,
 * cancellation, transport close), and answers a client half-close by closing our side too.
 * `onClosed` may run more than once; it must be idempotent.
 */
export function whenStreamCloses(
  call: { on(event: string, listener: () => void): unknown; end(): void },
  onClosed: () => void,
): void {
  call.on('end', () => {
    onClosed();
    call.end();
  });
  for (const event of ['error', 'cancelled', 'close']) call.on(event, onClosed);
}
