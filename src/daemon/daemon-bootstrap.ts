/**
 * The start and stop of an on-host daemon (`thales agent`, `thales lb-agent`,
 * `thales executor-cleanup`), once: its logger and metrics registry, the ZooKeeper session it
 * finds the leader through (session timeout configurable), the leader discovery over that
 * and the `--scheduler` list, an orderly stop on SIGTERM or SIGINT, and a fatal log line and
 * exit on an unhandled rejection or uncaught exception.
 */
import type { Registry } from 'prom-client';
import { pino, type Logger } from 'pino';
import { Coordinator } from '../coordination/index.js';
import { exitOnProcessFault, makeLogger, makeRegistry } from '../observability/index.js';
import { type LeaderDiscovery, fixedLeaderDiscovery } from '../runtime/index.js';
import { ZkLeaderDiscovery } from './zk-leader-discovery.js';

/** A daemon's ZooKeeper session settings. */
export interface ZooKeeperSettings {
  /** `host:port[,host:port…]`. */
  connect: string;
  chroot: string;
  sessionTimeoutMs: number;
}

/** ZooKeeper session timeout of on-host daemons unless a flag says otherwise. */
export const DEFAULT_DAEMON_SESSION_TIMEOUT_MS = 10_000;

/** What {@link startDaemon} sets up. */
export interface DaemonOptions {
  /** Bound on every log line, e.g. `{ component: 'lb-agent', group, agentId }`. */
  logBindings: Record<string, unknown>;
  /** `stderr` for a command whose stdout is its output (a dry run's plan). */
  logDestination?: 'stdout' | 'stderr';
  /**
   * The metrics registry: a fresh one with process metrics and these default labels, or one
   * the daemon made itself (the cleaner's, without process metrics).
   */
  metrics: { labels: Record<string, string> } | { registry: Registry };
  /** ZooKeeper, when the daemon finds the leader from its latch. */
  zookeeper?: ZooKeeperSettings;
  /** Fixed scheduler gRPC addresses (tried after the latch's leader). */
  schedulers?: readonly string[];
}

/** A started daemon's shared pieces. */
export interface Daemon {
  readonly logger: Logger;
  readonly registry: Registry;
  /** The ZooKeeper session, when one was asked for. */
  readonly zk: Coordinator | undefined;
  readonly discovery: LeaderDiscovery;
  /**
   * On the first SIGTERM or SIGINT: runs `stop`, closes ZooKeeper and, unless `exit` is
   * false, exits (0, or 1 if `stop` failed). A second signal kills the process as usual.
   */
  stopOnSignal(stop: () => Promise<void> | void, options?: { exit?: boolean }): void;
  /** Closes the ZooKeeper session. */
  close(): Promise<void>;
}

/** Sets up a daemon's logger, metrics, ZooKeeper session and leader discovery. */
export function startDaemon(o: DaemonOptions): Daemon {
  const logger = makeLogger(
    o.logBindings,
    undefined,
    o.logDestination === 'stderr' ? pino.destination(2) : undefined,
  );
  // Only `thales <daemon>` processes start here: a crash is one fatal line, then exit 1.
  exitOnProcessFault(logger);
  const registry = 'registry' in o.metrics ? o.metrics.registry : makeRegistry(o.metrics.labels);
  const fixed = o.schedulers ?? [];
  let zk: Coordinator | undefined;
  if (o.zookeeper) {
    zk = new Coordinator({
      connectString: o.zookeeper.connect,
      chroot: o.zookeeper.chroot,
      sessionTimeoutMs: o.zookeeper.sessionTimeoutMs,
      logger,
    });
    zk.start();
  }
  const discovery = zk ? new ZkLeaderDiscovery(zk, fixed, logger) : fixedLeaderDiscovery(fixed);
  const close = async (): Promise<void> => {
    await zk?.close();
  };
  return {
    logger,
    registry,
    zk,
    discovery,
    close,
    stopOnSignal(stop, options = {}) {
      const onSignal = (signal: NodeJS.Signals): void => {
        // Without a listener, a second signal gets Node's default handling: the process dies.
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        logger.info({ signal }, 'stopping');
        // Every step is caught: a failed close is logged and the exit is non-zero.
        Promise.resolve()
          .then(stop)
          .then(
            () => 0,
            (err: unknown) => {
              logger.error({ err }, 'stop failed');
              return 1;
            },
          )
          .then(async (code) => {
            const closed = await close().then(
              () => code,
              (err: unknown) => {
                logger.error({ err }, 'closing ZooKeeper failed');
                return 1;
              },
            );
            if (options.exit !== false) process.exit(closed);
          })
          .catch((err: unknown) => logger.error({ err }, 'stop failed'));
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    },
  };
}
