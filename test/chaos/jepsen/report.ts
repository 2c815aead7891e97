/**
 * The report of a chaos run: `report.json` (everything, for tools), `report.md` (for people),
 * `history.jsonl` (every operation), and the one-line JSON summary a run ends with.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { percentile } from '../../../bench/stats.js';
import type { CheckResult, Convergence } from './check/index.js';
import type { FaultRecord } from './nemesis/nemesis.js';
import type { Op, OpKind, Outcome } from './workload/history.js';

/** The final JSON line. */
export interface ChaosSummary {
  chaos: string;
  seed: number;
  minutes: number;
  operations: number;
  faults: number;
  leader_changes: number;
  violations: number;
  lost_acked_writes: number;
}

/** Latency figures of one operation kind (acknowledged operations only). */
export interface Latency {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Everything the report holds. */
export interface ChaosReport {
  summary: ChaosSummary;
  startedAt: string;
  dir: string;
  options: unknown;
  operations: Record<string, Record<Outcome, number>>;
  latencyMs: Record<string, Latency>;
  faults: FaultRecord[];
  faultsByKind: Record<string, number>;
  leaders: CheckResult['terms'];
  violationsByInvariant: Record<string, number>;
  violations: CheckResult['violations'];
  coverage: Record<string, number>;
  convergence: Convergence;
  replayMismatches: string[];
  notes: string[];
}

/** Counts and latencies by operation kind. */
export function tallyOps(ops: readonly Op[]): Pick<ChaosReport, 'operations' | 'latencyMs'> {
  const operations: Record<string, Record<Outcome, number>> = {};
  const durations = new Map<OpKind, number[]>();
  for (const op of ops) {
    const c = (operations[op.kind] ??= { ok: 0, fail: 0, info: 0 });
    c[op.outcome]++;
    if (op.outcome === 'ok') {
      const list = durations.get(op.kind) ?? [];
      list.push(op.completeMs - op.invokeMs);
      durations.set(op.kind, list);
    }
  }
  const latencyMs: Record<string, Latency> = {};
  for (const [kind, list] of durations) {
    list.sort((a, b) => a - b);
    latencyMs[kind] = {
      n: list.length,
      p50: percentile(list, 50),
      p90: percentile(list, 90),
      p99: percentile(list, 99),
      max: list[list.length - 1] ?? 0,
    };
  }
  return { operations, latencyMs };
}

/**
 * Writes report.json, report.md, history.jsonl and each of `samples` as `<name>.jsonl` (the
 * evidence behind a finding) into `dir`; returns report.md's path.
 */
export function writeReport(
  dir: string,
  report: ChaosReport,
  ops: readonly Op[],
  samples: Record<string, readonly unknown[]> = {},
): string {
  const jsonl = (rows: readonly unknown[]): string =>
    rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  writeFileSync(path.join(dir, 'report.json'), JSON.stringify(report, null, 2));
  writeFileSync(path.join(dir, 'history.jsonl'), jsonl(ops));
  for (const [name, rows] of Object.entries(samples)) {
    writeFileSync(path.join(dir, `${name}.jsonl`), jsonl(rows));
  }
  const md = path.join(dir, 'report.md');
  writeFileSync(md, renderMarkdown(report));
  return md;
}

/** The human-readable report. */
export function renderMarkdown(r: ChaosReport): string {
  const s = r.summary;
  const lines = [
    `# Chaos run ${s.chaos}, seed ${s.seed}, ${s.minutes} min`,
    '',
    `Started ${r.startedAt}; files in \`${r.dir}\`.`,
    '',
    `**${s.violations} violations, ${s.lost_acked_writes} lost acknowledged writes**, ` +
      `${s.operations} operations, ${s.faults} faults, ${s.leader_changes} leader changes.`,
    '',
    ...violationLines(r),
    ...operationLines(r),
    ...faultLines(r),
    '## Convergence after healing',
    '',
    r.convergence.converged
      ? `Converged in ${r.convergence.waitedMs} ms.`
      : `Not converged after ${r.convergence.waitedMs} ms: ${r.convergence.problems.join('; ')}`,
    '',
    '## Coverage (what the checks had to check)',
    '',
    ...table(['figure', 'value'], entries(r.coverage)),
    '',
    ...section('Notes', r.notes),
    ...section('Replay mismatches (checker error)', r.replayMismatches),
  ];
  return lines.join('\n') + '\n';
}

function violationLines(r: ChaosReport): string[] {
  const at = (ms?: number): string => (ms ? ` @${new Date(ms).toISOString()}` : '');
  return [
    '## Violations by invariant',
    '',
    ...table(['invariant', 'count'], entries(r.violationsByInvariant)),
    '',
    ...r.violations
      .slice(0, 40)
      .map((v) => `- [${v.invariant}] ${v.check}${at(v.at)}: ${v.message}`),
    ...(r.violations.length > 40 ? [`- … ${r.violations.length - 40} more in report.json`] : []),
    '',
  ];
}

function operationLines(r: ChaosReport): string[] {
  const rows = Object.entries(r.operations).map(([k, c]) => {
    const l = r.latencyMs[k];
    const figures = [l?.p50, l?.p90, l?.p99, l?.max].map((x) => String(x ?? '-'));
    return [k, String(c.ok), String(c.fail), String(c.info), ...figures];
  });
  const head = ['kind', 'ok', 'fail', 'info', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'];
  return ['## Operations', '', ...table(head, rows), ''];
}

function faultLines(r: ChaosReport): string[] {
  const fault = (f: FaultRecord): string =>
    `- ${new Date(f.startMs).toISOString()} ${f.kind} ${f.target}` +
    (f.skipped ? ` skipped: ${f.skipped}` : ` for ${f.healMs - f.startMs} ms`);
  return [
    '## Faults',
    '',
    ...table(['kind', 'count'], entries(r.faultsByKind)),
    '',
    ...r.faults.map(fault),
    '',
    '## Leaders (from /leader/term in the transaction log)',
    '',
    ...r.leaders.map((t) => `- term ${t.term}: ${t.leaderId} at ${new Date(t.at).toISOString()}`),
    '',
  ];
}

function section(title: string, items: readonly string[]): string[] {
  return items.length > 0 ? [`## ${title}`, '', ...items.map((i) => `- ${i}`), ''] : [];
}

function entries(record: Record<string, number>): string[][] {
  return Object.entries(record).map(([k, v]) => [k, String(v)]);
}

function table(head: string[], rows: string[][]): string[] {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}
