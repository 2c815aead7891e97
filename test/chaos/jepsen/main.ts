/**
 * `npm run chaos -- --seed S --minutes M …`: one Jepsen-style chaos run against real processes
 * (see docs/chaos.md). Prints progress, writes its report, and ends with one JSON line:
 * `{"chaos","seed","minutes","operations","faults","leader_changes","violations","lost_acked_writes"}`.
 * Exits 0 when nothing was violated, 1 when something was, 2 when the run itself failed.
 */
import { CHAOS_USAGE, parseChaosArgs } from './options.js';
import { runChaos } from './run.js';

async function main(): Promise<number> {
  let options;
  try {
    options = parseChaosArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`chaos: ${(err as Error).message}\n${CHAOS_USAGE}\n`);
    return 2;
  }
  const result = await runChaos(options);
  const { checks } = result;
  for (const v of checks.violations.slice(0, 20)) {
    process.stdout.write(`[chaos] violation [${v.invariant}] ${v.check}: ${v.message}\n`);
  }
  if (checks.replayMismatches.length > 0) {
    process.stdout.write(
      `[chaos] checker error: replay disagrees with ZooKeeper: ${checks.replayMismatches.slice(0, 5).join('; ')}\n`,
    );
  }
  process.stdout.write(`${JSON.stringify(result.summary)}\n`);
  if (checks.replayMismatches.length > 0) return 2;
  return result.summary.violations === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `chaos: run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(2);
  },
);
