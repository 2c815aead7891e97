import { parseArgs } from 'node:util';
import { AGENT_USAGE, runAgent, runExecutor } from '../agent/index.js';
import { runDevCluster } from '../dev/index.js';
import {
  CLIENT_USAGE,
  runAgentsCommand,
  runDeployCommand,
  runRequestCommand,
  runTasksCommand,
} from './client-commands.js';
import { EXECUTOR_CLEANUP_USAGE, runExecutorCleanup } from '../executor-cleanup/index.js';
import { LB_AGENT_USAGE, makeLbExtensionFactory, runLbAgent } from '../lb/index.js';
import {
  ConfigError,
  THALES_VERSION,
  describeBuild,
  loadSchedulerConfig,
  makeTasksExtensionFactory,
  startSchedulerReplica,
} from '../scheduler/index.js';

const USAGE = `usage: thales <command> [flags]

commands:
  scheduler   run a scheduler replica (flags: --config, --zk, --chroot, --replica-id,
              --http-port, --grpc-port, --session-timeout-ms, --host, --advertise-host)
  ${LB_AGENT_USAGE}
  ${AGENT_USAGE}
  ${EXECUTOR_CLEANUP_USAGE}
  dev         run a local cluster: ZooKeeper and 3 replicas
  state       print a replica's view of the cluster (--api http://host:port)
  ${CLIENT_USAGE}
  version     print the version and the commit it was built from`;

/** Dispatches `thales <command>`. */
export async function runCommand(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'scheduler':
      return runScheduler(rest);
    case 'lb-agent':
      return runLbAgent(rest, THALES_VERSION);
    case 'agent':
      return runAgent(rest, THALES_VERSION);
    case 'executor':
      return runExecutor(rest);
    case 'executor-cleanup':
      return runExecutorCleanup(rest);
    case 'dev':
      return runDevCluster();
    case 'state':
      return printState(rest);
    case 'request':
      return runRequestCommand(rest);
    case 'deploy':
      return runDeployCommand(rest);
    case 'tasks':
      return runTasksCommand(rest);
    case 'agents':
      return runAgentsCommand(rest);
    case 'version':
      process.stdout.write(`${describeBuild()}\n`);
      return;
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      throw new Error(`unknown command '${command}'\n${USAGE}`);
  }
}

async function runScheduler(argv: string[]): Promise<void> {
  let config;
  try {
    config = loadSchedulerConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) throw new Error(`invalid configuration: ${err.message}`);
    throw err;
  }
  const replica = await startSchedulerReplica(config, [
    makeLbExtensionFactory(),
    makeTasksExtensionFactory(),
  ]);
  const onSignal = (): void => {
    void replica.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

async function printState(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      api: { type: 'string', default: process.env.THALES_API ?? 'http://127.0.0.1:7070' },
    },
    strict: true,
  });
  const res = await fetch(`${values.api}/api/state`);
  process.stdout.write(`${JSON.stringify(await res.json(), null, 2)}\n`);
}
