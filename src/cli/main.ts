import { CommanderError } from 'commander';
import { CliError, EXIT } from './exit-codes.js';
import { makeProgram } from './program.js';

// The `thales` binary: one process, several roles (DESIGN.md, "Processes").
async function main(argv: string[]): Promise<void> {
  const program = makeProgram();
  if (argv.length === 0) {
    program.outputHelp();
    return;
  }
  await program.parseAsync(argv, { from: 'user' });
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Commander has printed the message (or the help) already.
    const shown = err.code === 'commander.helpDisplayed' || err.code === 'commander.help';
    process.exit(shown || err.code === 'commander.version' ? EXIT.OK : EXIT.USAGE);
  }
  process.stderr.write(`thales: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof CliError ? err.exitCode : EXIT.REFUSED);
});
