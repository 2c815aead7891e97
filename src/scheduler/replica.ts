import type http from 'node:http';
import type * as grpc from '@grpc/grpc-js';
import type Router from '@koa/router';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { ApiError, startGrpcServer, startHttpServer, type SchedulerBackend } from '../api/index.js';
import { Coordinator, FenceRejectedError, encodeJson, zkPaths } from '../coordination/index.js';
import type { SchedulerHandlers } from '../gen/thales/v1/Scheduler.js';
import { Leadership, type LeaderService } from '../leader/index.js';
import { makeLogger, makeRegistry } from '../observability/index.js';
import { closeHttpServer, stopGrpcServer } from '../runtime/index.js';
import { ClusterView } from './cluster-view.js';
import type { SchedulerConfig } from './config.js';
import { LeaderHeartbeat } from './leader-heartbeat.js';
import type { SchedulerLoadBalancer } from './load-balancer-gateway.js';
import { ReplicaRegistration } from './replica-registration.js';
import { THALES_VERSION } from './version.js';

/** What a component gets to plug itself into a replica. */
export interface ReplicaContext {
  config: SchedulerConfig;
  zk: Coordinator;
  leadership: Leadership;
  /** The replica's cluster view (who leads, at which addresses). */
  view: ClusterView;
  logger: Logger;
  registry: Registry;
  /**
   * Where the load-balancer extension puts the scheduler's view of its manager, and the
   * tasks extension finds it (late-bound: extensions are built one after the other).
   */
  loadBalancer?: { current?: SchedulerLoadBalancer };
}

/**
 * A component's contribution to a replica (e.g. the load-balancer manager): leader-only
 * services, HTTP routes, gRPC services, and what to do at shutdown.
 */
export interface ReplicaExtension {
  leaderServices?: LeaderService[];
  routers?: Router[];
  addGrpcServices?: (server: grpc.Server) => void;
  /** RPCs of the `Scheduler` service this component implements. */
  schedulerHandlers?: Partial<SchedulerHandlers>;
  start?(): void;
  stop?(): Promise<void>;
}

/** Builds an extension once the replica's core exists. */
export type ReplicaExtensionFactory = (replica: ReplicaContext) => ReplicaExtension;

/** A running scheduler replica; `stop()` is the graceful shutdown. */
export interface SchedulerReplica {
  readonly leadership: Leadership;
  readonly view: ClusterView;
  /** The replica's root logger (the command logs a crash with it). */
  readonly logger: Logger;
  stop(): Promise<void>;
}

/**
 * Starts one `thales scheduler` replica: the APIs first (so a port in use fails at once and
 * state is served even before ZooKeeper answers), then the session, registration, cluster
 * view and the leader election.
 */
export async function startSchedulerReplica(
  config: SchedulerConfig,
  extensionFactories: ReplicaExtensionFactory[] = [],
): Promise<SchedulerReplica> {
  const logger = makeLogger(
    { component: 'scheduler', replicaId: config.replicaId },
    config.logLevel,
  );
  const registry = makeRegistry({ replica: config.replicaId });
  const httpAddress = `${config.advertiseHost}:${config.http.port}`;
  const grpcAddress = `${config.advertiseHost}:${config.grpc.port}`;
  const zk = new Coordinator({
    connectString: config.zookeeper.connect,
    chroot: config.zookeeper.chroot,
    sessionTimeoutMs: config.zookeeper.sessionTimeoutMs,
    logger: logger.child({ component: 'coordination' }),
  });
  new Counter({
    name: 'thales_zk_reads_total',
    help: 'ZooKeeper reads (get, exists, children) this replica sent; an idle cluster sends none',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(zk.readCount);
    },
  });
  const identity = { replicaId: config.replicaId, httpAddress, grpcAddress };
  const leadership = new Leadership(zk, identity, logger.child({ component: 'leader' }), registry);
  leadership.register(
    new LeaderHeartbeat(config.replicaId, logger.child({ component: 'heartbeat' })),
  );
  const view = new ClusterView(
    zk,
    { replicaId: config.replicaId, version: THALES_VERSION },
    () => leadership.status,
    { logger: logger.child({ component: 'cluster-view' }), registry },
  );
  const registration = new ReplicaRegistration(
    zk,
    { ...identity, version: THALES_VERSION, startedAt: Date.now() },
    logger,
  );
  const backend = makeBackend(leadership, view, config.debugApi);
  const replicaContext: ReplicaContext = {
    config,
    zk,
    leadership,
    view,
    logger,
    registry,
    loadBalancer: {},
  };
  const extensions = extensionFactories.map((make) => make(replicaContext));
  for (const e of extensions) for (const s of e.leaderServices ?? []) leadership.register(s);

  const { httpServer, grpcServer } = await startServers(config, {
    backend,
    registry,
    logger,
    extensions,
  });
  zk.start();
  view.start();
  registration.start();
  for (const e of extensions) e.start?.();
  leadership.start();
  logger.info({ http: httpAddress, grpc: grpcAddress, zk: config.zookeeper }, 'replica started');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= shutdown({
      leadership,
      registration,
      view,
      zk,
      httpServer,
      grpcServer,
      extensions,
    }));
  return { leadership, view, logger, stop };
}

/** The HTTP and gRPC servers with every extension's routes and services (both or neither). */
async function startServers(
  config: SchedulerConfig,
  parts: {
    backend: SchedulerBackend;
    registry: Registry;
    logger: Logger;
    extensions: ReplicaExtension[];
  },
): Promise<{ httpServer: http.Server; grpcServer: grpc.Server }> {
  const { backend, registry, logger, extensions } = parts;
  const routers = extensions.flatMap((e) => e.routers ?? []);
  const httpServer = await startHttpServer({ ...config.http, backend, registry, logger, routers });
  try {
    const addServices = (server: grpc.Server): void => {
      for (const e of extensions) e.addGrpcServices?.(server);
    };
    const schedulerHandlers = Object.assign(
      {},
      ...extensions.map((e) => e.schedulerHandlers ?? {}),
    );
    const grpcServer = await startGrpcServer({
      ...config.grpc,
      backend,
      logger,
      addServices,
      schedulerHandlers,
    });
    return { httpServer, grpcServer };
  } catch (err) {
    await closeHttpServer(httpServer);
    throw err;
  }
}

function makeBackend(leadership: Leadership, view: ClusterView, debug: boolean): SchedulerBackend {
  const backend: SchedulerBackend = {
    state: () => view.snapshot(),
    async stepDown() {
      if (leadership.status.role === 'FOLLOWER') return { steppedDown: false };
      await leadership.stepDown(true);
      return { steppedDown: true };
    },
  };
  if (debug) {
    backend.fencedProbe = async () => {
      const writer = leadership.lastFencedWriter;
      if (!writer) throw new ApiError('NOT_FOUND', 'this replica has never led');
      const data = encodeJson({ term: writer.term, probe: true, at: Date.now() });
      try {
        await writer.write([{ op: 'set', path: zkPaths.leaderHeartbeat, data, version: -1 }]);
        return { term: writer.term, accepted: true };
      } catch (err) {
        const fenced = err instanceof FenceRejectedError;
        return { term: writer.term, accepted: false, error: fenced ? 'FENCED' : String(err) };
      }
    };
  }
  return backend;
}

async function shutdown(parts: {
  leadership: Leadership;
  registration: ReplicaRegistration;
  view: ClusterView;
  zk: Coordinator;
  httpServer: http.Server;
  grpcServer: grpc.Server;
  extensions: ReplicaExtension[];
}): Promise<void> {
  // Step down first so a follower takes over at once, then let in-flight calls finish.
  // With ZooKeeper unreachable the znode removals cannot land; don't wait on them: the
  // session's end removes the ephemerals anyway.
  await bounded(parts.leadership.stepDown(false), ZK_SHUTDOWN_STEP_MS);
  await bounded(parts.registration.stop(), ZK_SHUTDOWN_STEP_MS);
  await Promise.all([closeHttpServer(parts.httpServer), stopGrpcServer(parts.grpcServer)]);
  for (const e of parts.extensions) await e.stop?.();
  parts.view.stop();
  await parts.zk.close();
}

/** How long a shutdown waits for each ZooKeeper clean-up step. */
const ZK_SHUTDOWN_STEP_MS = 500;

/** Waits for `work` at most `ms`; its failure or lateness does not stop the shutdown. */
async function bounded(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}
