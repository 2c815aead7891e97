/** The options of a chaos run, from `npm run chaos -- …` flags or from a test. */
import { parseArgs } from 'node:util';
import { FAULT_KINDS, type FaultKind, parseFaultKinds } from './nemesis/schedule.js';

/** Everything that shapes a run. */
export interface ChaosOptions {
  /** Names the run in the JSON line (`chaos`). */
  name: string;
  seed: number;
  /** Length of the chaos phase (workload and nemesis), not counting start-up and checks. */
  minutes: number;
  nemesis: FaultKind[];
  /** Quiet time between faults, [min, max] ms. */
  faultGapMs: [number, number];
  /** How long a killed agent stays down, [min, max] ms. */
  agentDownMs: [number, number];
  /** How much longer than its session a paused leader sleeps, [min, max] ms. */
  pauseExtraMs: [number, number];
  sessionTimeoutMs: number;
  /** The replicas' THALES_AGENT_LOST_MS: how long an agent may be away before its tasks are LOST. */
  agentLostMs: number;
  /** The replicas' THALES_AGENT_RECONNECT_GRACE_MS: the agents' grace after a failover. */
  agentReconnectGraceMs: number;
  /** Where data, logs and the report go (a fresh temp dir when undefined). */
  dir?: string;
  /** How long the agents may run a task the cluster does not hold active, while connected. */
  orphanBoundMs: number;
  /** How long to wait for the cluster to settle after healing. */
  convergeMs: number;
  writers: number;
  /** Also send hostile probes that hit a known open issue. */
  knownIssues: boolean;
  /** Who puts `web`'s tasks in the load balancer: the workload (today) or the scheduler. */
  lbRouting: 'explicit' | 'product';
}

/** Defaults of a long run. */
export const DEFAULT_OPTIONS: ChaosOptions = {
  name: 'thales',
  seed: 1,
  minutes: 5,
  nemesis: [...FAULT_KINDS],
  faultGapMs: [2_000, 6_000],
  agentDownMs: [1_000, 20_000],
  pauseExtraMs: [500, 3_000],
  sessionTimeoutMs: 4_000,
  agentLostMs: 6_000,
  agentReconnectGraceMs: 10_000,
  orphanBoundMs: 20_000,
  convergeMs: 120_000,
  writers: 3,
  knownIssues: true,
  lbRouting: 'explicit',
};

/** The usage line of `npm run chaos`. */
export const CHAOS_USAGE = `usage: npm run chaos -- [--seed N] [--minutes M] [--nemesis all|none|kind,…]
  [--fault-gap-ms MIN-MAX] [--agent-down-ms MIN-MAX] [--pause-extra-ms MIN-MAX]
  [--session-timeout-ms N] [--agent-lost-ms N] [--agent-reconnect-grace-ms N] [--dir D]
  [--orphan-bound-ms N] [--converge-s N] [--writers N] [--known-issues include|exclude]
  [--lb-routing explicit|product] [--name NAME]
faults: ${FAULT_KINDS.join(', ')}`;

function range(text: string, flag: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(text);
  if (!m || Number(m[1]) > Number(m[2])) throw new Error(`--${flag}: '${text}' is not MIN-MAX`);
  return [Number(m[1]), Number(m[2])];
}

function num(text: string, flag: string, min = 0): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min) {
    throw new Error(`--${flag}: '${text}' is not a number ≥ ${min}`);
  }
  return n;
}

/** Parses the command line; throws naming the bad flag. */
export function parseChaosArgs(argv: string[]): ChaosOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      seed: { type: 'string' },
      minutes: { type: 'string' },
      nemesis: { type: 'string' },
      'fault-gap-ms': { type: 'string' },
      'agent-down-ms': { type: 'string' },
      'pause-extra-ms': { type: 'string' },
      'session-timeout-ms': { type: 'string' },
      'agent-lost-ms': { type: 'string' },
      'agent-reconnect-grace-ms': { type: 'string' },
      dir: { type: 'string' },
      'orphan-bound-ms': { type: 'string' },
      'converge-s': { type: 'string' },
      writers: { type: 'string' },
      'known-issues': { type: 'string' },
      'lb-routing': { type: 'string' },
      name: { type: 'string' },
    },
  });
  const o: ChaosOptions = { ...DEFAULT_OPTIONS };
  if (values.seed !== undefined) o.seed = Math.floor(num(values.seed, 'seed'));
  if (values.minutes !== undefined) o.minutes = num(values.minutes, 'minutes', 0.1);
  if (values.nemesis !== undefined) o.nemesis = parseFaultKinds(values.nemesis);
  if (values['fault-gap-ms']) o.faultGapMs = range(values['fault-gap-ms'], 'fault-gap-ms');
  if (values['agent-down-ms']) o.agentDownMs = range(values['agent-down-ms'], 'agent-down-ms');
  if (values['pause-extra-ms']) o.pauseExtraMs = range(values['pause-extra-ms'], 'pause-extra-ms');
  if (values['session-timeout-ms'] !== undefined)
    o.sessionTimeoutMs = num(values['session-timeout-ms'], 'session-timeout-ms', 400);
  if (values['agent-lost-ms'] !== undefined)
    o.agentLostMs = num(values['agent-lost-ms'], 'agent-lost-ms');
  if (values['agent-reconnect-grace-ms'] !== undefined)
    o.agentReconnectGraceMs = num(values['agent-reconnect-grace-ms'], 'agent-reconnect-grace-ms');
  if (values.dir !== undefined) o.dir = values.dir;
  if (values['orphan-bound-ms'] !== undefined)
    o.orphanBoundMs = num(values['orphan-bound-ms'], 'orphan-bound-ms');
  if (values['converge-s'] !== undefined)
    o.convergeMs = num(values['converge-s'], 'converge-s') * 1_000;
  if (values.writers !== undefined) o.writers = Math.floor(num(values.writers, 'writers', 1));
  if (values['known-issues'] !== undefined) {
    if (!['include', 'exclude'].includes(values['known-issues']))
      throw new Error(`--known-issues: '${values['known-issues']}' is not include or exclude`);
    o.knownIssues = values['known-issues'] === 'include';
  }
  if (values['lb-routing'] !== undefined) {
    if (!['explicit', 'product'].includes(values['lb-routing']))
      throw new Error(`--lb-routing: '${values['lb-routing']}' is not explicit or product`);
    o.lbRouting = values['lb-routing'] as 'explicit' | 'product';
  }
  if (values.name !== undefined) o.name = values.name;
  return o;
}
