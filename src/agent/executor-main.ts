import { runExecutor } from './executor.js';

// The executor's own entry point: it loads only what an executor needs (not the whole CLI),
// so every task starts fast and does not depend on unrelated components. `thales executor`
// runs the same code.
runExecutor(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`thales executor: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
