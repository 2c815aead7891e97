import { makeLbExtensionFactory } from '../lb/index.js';
import {
  ConfigError,
  loadSchedulerConfig,
  makeTasksExtensionFactory,
  startSchedulerReplica,
} from '../scheduler/index.js';
import { exitOnProcessFault } from '../observability/index.js';
import { CliError, EXIT } from './exit-codes.js';

/** The flags of `thales scheduler`. */
export const SCHEDULER_USAGE = `scheduler   run a scheduler replica (flags: --config, --zk, --chroot, --replica-id,
              --http-port, --grpc-port, --session-timeout-ms, --host, --advertise-host,
              --log-level, --debug-api)`;

/** `thales scheduler`: one replica with the load-balancer and task extensions, until a signal. */
export async function runScheduler(argv: string[]): Promise<void> {
  let config;
  try {
    config = loadSchedulerConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new CliError(`invalid configuration: ${err.message}`, EXIT.REFUSED, { cause: err });
    }
    throw err;
  }
  const replica = await startSchedulerReplica(config, [
    makeLbExtensionFactory(),
    makeTasksExtensionFactory(),
  ]);
  exitOnProcessFault(replica.logger);
  const onSignal = (): void => {
    replica.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
