/**
 * The commands that run a Thales process: `scheduler`, `agent`, `executor`, `lb-agent`,
 * `executor-cleanup` and `dev`. Each parses its own flags (its configuration loader names a bad
 * one); the CLI only routes to it and answers `--help` with the flags it takes. Their modules
 * load on use, so the client commands start without loading every daemon.
 */
import type { Command } from 'commander';

/** A daemon's flags (for `--help`) and its entry point. */
interface Daemon {
  usage: string;
  run(argv: string[]): Promise<void>;
}

/** One daemon command: its flags go to `run` as they are; `--help` prints its usage. */
function daemon(
  program: Command,
  name: string,
  description: string,
  load: () => Promise<Daemon>,
): void {
  program
    .command(name)
    .description(description)
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[flags...]', 'its flags: thales help ' + name)
    .action(async (flags: string[], _options: unknown, command: Command) => {
      const entry = await load();
      if (flags.includes('--help') || flags.includes('-h')) {
        process.stdout.write(`${command.helpInformation()}\n${entry.usage}\n`);
        return;
      }
      await entry.run(flags);
    });
}

/** Registers the daemon commands on `program`. */
export function addDaemonCommands(program: Command): void {
  daemon(program, 'scheduler', 'run a scheduler replica', async () => {
    const { SCHEDULER_USAGE, runScheduler } = await import('./scheduler-command.js');
    return { usage: SCHEDULER_USAGE, run: runScheduler };
  });
  daemon(program, 'agent', 'run a task agent', async () => {
    const [{ AGENT_USAGE, runAgent }, { THALES_VERSION }] = await Promise.all([
      import('../agent/index.js'),
      import('../scheduler/index.js'),
    ]);
    return { usage: AGENT_USAGE, run: (argv) => runAgent(argv, THALES_VERSION) };
  });
  daemon(program, 'executor', 'run one task in its sandbox (started by the agent)', async () => {
    const { EXECUTOR_USAGE, runExecutor } = await import('../agent/index.js');
    return { usage: EXECUTOR_USAGE, run: runExecutor };
  });
  daemon(program, 'lb-agent', 'run an nginx lb-agent for a group', async () => {
    const [{ LB_AGENT_USAGE, runLbAgent }, { THALES_VERSION }] = await Promise.all([
      import('../lb/index.js'),
      import('../scheduler/index.js'),
    ]);
    return { usage: LB_AGENT_USAGE, run: (argv) => runLbAgent(argv, THALES_VERSION) };
  });
  daemon(program, 'executor-cleanup', 'remove what finished tasks left on this agent', async () => {
    const { EXECUTOR_CLEANUP_USAGE, runExecutorCleanup } =
      await import('../executor-cleanup/index.js');
    return { usage: EXECUTOR_CLEANUP_USAGE, run: runExecutorCleanup };
  });
  program
    .command('dev')
    .description(
      'run a local cluster: ZooKeeper, 3 replicas, 2 agents, an lb-agent, a demo service',
    )
    .action(async () => (await import('../dev/index.js')).runDevCluster());
}
