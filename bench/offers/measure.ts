/**
 * Measuring helpers of the offers bench: wall time, a cheap validity check of a result
 * (written here, not borrowed from the engine), utilization and table formatting.
 */
import type { MatchInput, MatchResult } from '../../src/offers/index.js';

/** Runs `fn` once and returns its result and wall time in milliseconds. */
export async function timed<T>(fn: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

/**
 * Checks that no agent is over-committed (cpus, memory, disk, ports) and no task is placed
 * twice. Returns the problems found; the bench prints them and fails.
 */
export function findOvercommits(input: MatchInput, result: MatchResult): string[] {
  const problems: string[] = [];
  const byAgent = new Map(
    input.offers.map((o) => [o.agentId, { o, cpus: 0, mem: 0, disk: 0, ports: new Set<number>() }]),
  );
  const seen = new Set<string>();
  for (const a of result.assignments) {
    const k = `${a.taskKey.requestId}\u0000${a.taskKey.deployId}\u0000${a.taskKey.instanceNo}`;
    if (seen.has(k)) problems.push(`task placed twice: ${k}`);
    seen.add(k);
    const use = byAgent.get(a.agentId);
    if (!use) {
      problems.push(`unknown agent ${a.agentId}`);
      continue;
    }
    use.cpus += a.resources.cpus;
    use.mem += a.resources.memoryMb;
    use.disk += a.resources.diskMb;
    for (const p of a.ports) {
      if (use.ports.has(p)) problems.push(`port ${p} twice on ${a.agentId}`);
      use.ports.add(p);
    }
  }
  for (const { o, cpus, mem, disk } of byAgent.values()) {
    if (cpus > o.cpus + 1e-6 || mem > o.memoryMb + 1e-6 || disk > o.diskMb + 1e-6) {
      problems.push(`agent ${o.agentId} over-committed`);
    }
  }
  return problems;
}

/** Share of the offered cpus and memory that the assignments use, in percent. */
export function utilization(input: MatchInput, result: MatchResult): { cpu: number; mem: number } {
  const offered = input.offers.reduce(
    (s, o) => ({ cpu: s.cpu + o.cpus, mem: s.mem + o.memoryMb }),
    { cpu: 0, mem: 0 },
  );
  const used = result.assignments.reduce(
    (s, a) => ({ cpu: s.cpu + a.resources.cpus, mem: s.mem + a.resources.memoryMb }),
    { cpu: 0, mem: 0 },
  );
  return { cpu: (100 * used.cpu) / offered.cpu, mem: (100 * used.mem) / offered.mem };
}

/** Formats rows as a fixed-width table. */
export function formatTable(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((r) => r[c]!.length)));
  return cells.map((r) => r.map((v, c) => v.padStart(widths[c]!)).join('  ')).join('\n');
}
