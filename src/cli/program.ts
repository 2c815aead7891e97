import { Command } from 'commander';
import { addClientCommands } from './client-commands.js';
import { addDaemonCommands } from './daemon-commands.js';

/** The `thales` command tree (commander): daemons, the client commands, `version`. */
export function makeProgram(): Command {
  const program = new Command('thales')
    .description('a highly available cluster scheduler (docs/api.md, "CLI")')
    .showHelpAfterError('(thales <command> --help for its flags)')
    .exitOverride()
    // A parent's options (tasks, agents: --api, --output) are its own only before a
    // subcommand, so `thales tasks scheduled --api URL` gives --api to `scheduled`.
    .enablePositionalOptions();
  addDaemonCommands(program);
  addClientCommands(program);
  program
    .command('version')
    .description('print the version and the commit it was built from')
    .action(async () => {
      const { describeBuild } = await import('../scheduler/index.js');
      process.stdout.write(`${describeBuild()}\n`);
    });
  return program;
}
