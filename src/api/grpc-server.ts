import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ProtoGrpcType } from '../gen/scheduler.js';
import type { SchedulerHandlers } from '../gen/thales/v1/Scheduler.js';
import type { SchedulerBackend } from './http-server.js';
import { toClusterStateMessage } from './state-message.js';
import { bindGrpcServer, loadProto } from '../runtime/index.js';
import { refuseMalformedRequests, tolerantServices } from './grpc-edge.js';

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
  const server = tolerantServices(
    new grpc.Server({
      'grpc.max_receive_message_length': 4 * 1024 * 1024,
      interceptors: [refuseMalformedRequests],
    }),
  );
  // RPCs nobody provides answer UNIMPLEMENTED (grpc-js' default handler).
  const handlers = {
    ...options.schedulerHandlers,
    GetState(_call, callback) {
      callback(null, toClusterStateMessage(options.backend.state()));
    },
  } as SchedulerHandlers;
  server.addService(proto.thales.v1.Scheduler.service, handlers);
  options.addServices?.(server);
  await bindGrpcServer(server, options.host, options.port);
  return server;
}
