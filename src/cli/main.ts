import { runCommand } from './commands.js';

// The `thales` binary: one process, several roles (DESIGN.md, "Processes").
runCommand(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`thales: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
