/**
 * The pure part of the agent's health checks: given a task's health-check spec, what it knew
 * so far and one event (a check's outcome, or the clock), its health now, whether to report
 * it, and when to look again. No I/O, no clock: the driver (health-checker.ts) runs the checks
 * and the timers.
 *
 * Phases, as in Singularity's docs (`Docs/reference/healthchecks.md`), but continuous:
 * - STARTUP: the first check `startupDelayMs` after the task runs, then every
 *   `startupIntervalMs` until one passes (HEALTHY) or `startupTimeoutMs` after the first
 *   check has gone by (UNHEALTHY). Failures there are expected (the service is starting) and
 *   are not reported one by one.
 * - PERIODIC: a check every `intervalMs`, for as long as the task runs. A task fails once more
 *   than `maxRetries` checks in a row failed (Singularity: maxRetries 4 → at most 5 checks);
 *   a status code in `failureStatusCodes` fails it at once. A passing check makes it HEALTHY
 *   again (the leader decides what to do with a task that was unhealthy).
 * - RUNNING (no health check configured): HEALTHY once running for `considerHealthyAfterMs`.
 */

/** Health as the agent reports it (the same names as the leader's task model). */
export type AgentHealthStatus = 'STARTING' | 'HEALTHY' | 'UNHEALTHY';

/** The spec fields the policy reads (the TaskSpec's HealthcheckSpec, camelCase). */
export interface HealthPolicySpec {
  kind: string;
  startupDelayMs: number;
  startupTimeoutMs: number;
  startupIntervalMs: number;
  intervalMs: number;
  maxRetries: number;
  failureStatusCodes: readonly number[];
  considerHealthyAfterMs: number;
}

/** What one check found. */
export interface CheckOutcome {
  /** Passed: a 2xx answer, or a TCP connection. */
  ok: boolean;
  statusCode?: number;
  durationMs: number;
  errorMessage?: string;
  responseBody?: string;
  /** When the check ended. */
  at: number;
}

/** One task's health-check state. */
export interface HealthTrack {
  status: AgentHealthStatus;
  phase: 'STARTUP' | 'PERIODIC' | 'DONE';
  /** When the task was first seen running (the startup clock starts here). */
  runningSince: number;
  consecutiveFailures: number;
  /** When to check (or, for RUNNING, decide) next; null: nothing more to do. */
  nextAt: number | null;
}

/** A result to put in the outbox and send to the leader. */
export interface HealthReport {
  health: AgentHealthStatus;
  outcome: CheckOutcome;
  startup: boolean;
}

/** The state after an event, and the report it calls for (if any). */
export interface HealthStep {
  track: HealthTrack;
  report?: HealthReport;
}

/**
 * Starts tracking a task seen running at `runningSince`. `resumed` is the health last
 * recorded in the sandbox (an agent restarted): a task that had passed its startup stays out
 * of it, so a restart never fails a long-running task for a startup that is long over.
 */
export function startTracking(
  spec: HealthPolicySpec,
  runningSince: number,
  now: number,
  resumed?: AgentHealthStatus,
): HealthTrack {
  const base = { runningSince, consecutiveFailures: 0 };
  if (spec.kind === 'RUNNING') {
    if (resumed === 'HEALTHY') return { ...base, status: 'HEALTHY', phase: 'DONE', nextAt: null };
    return {
      ...base,
      status: 'STARTING',
      phase: 'STARTUP',
      nextAt: runningSince + spec.considerHealthyAfterMs,
    };
  }
  if (resumed === 'HEALTHY' || resumed === 'UNHEALTHY') {
    return { ...base, status: resumed, phase: 'PERIODIC', nextAt: now };
  }
  return {
    ...base,
    status: 'STARTING',
    phase: 'STARTUP',
    nextAt: runningSince + spec.startupDelayMs,
  };
}

/** The time after which a task still starting fails its startup. */
export function startupDeadline(spec: HealthPolicySpec, track: HealthTrack): number {
  return track.runningSince + spec.startupDelayMs + spec.startupTimeoutMs;
}

/** The clock reached `now`: only the RUNNING rule decides on time alone. */
export function onClock(spec: HealthPolicySpec, track: HealthTrack, now: number): HealthStep {
  if (spec.kind !== 'RUNNING' || track.phase !== 'STARTUP' || track.nextAt === null) {
    return { track };
  }
  if (now < track.nextAt) return { track };
  const outcome: CheckOutcome = { ok: true, durationMs: 0, at: now };
  return {
    track: { ...track, status: 'HEALTHY', phase: 'DONE', nextAt: null },
    report: { health: 'HEALTHY', outcome, startup: true },
  };
}

/** A check ended with `outcome`. */
export function onCheck(
  spec: HealthPolicySpec,
  track: HealthTrack,
  outcome: CheckOutcome,
): HealthStep {
  if (track.phase === 'DONE') return { track };
  const failsAtOnce =
    !outcome.ok &&
    outcome.statusCode !== undefined &&
    spec.failureStatusCodes.includes(outcome.statusCode);
  if (track.phase === 'STARTUP') return onStartupCheck(spec, track, outcome, failsAtOnce);
  const periodic = { ...track, nextAt: outcome.at + spec.intervalMs };
  if (outcome.ok) {
    const healthy: HealthTrack = { ...periodic, status: 'HEALTHY', consecutiveFailures: 0 };
    if (track.status === 'HEALTHY') return { track: healthy };
    return { track: healthy, report: { health: 'HEALTHY', outcome, startup: false } };
  }
  const failures = track.consecutiveFailures + 1;
  const failed = failsAtOnce || failures > spec.maxRetries;
  const next: HealthTrack = {
    ...periodic,
    consecutiveFailures: failures,
    status: failed ? 'UNHEALTHY' : track.status,
  };
  // Failures of an unhealthy task are not reported one by one: its report is already out.
  if (track.status === 'UNHEALTHY') return { track: next };
  return { track: next, report: { health: next.status, outcome, startup: false } };
}

function onStartupCheck(
  spec: HealthPolicySpec,
  track: HealthTrack,
  outcome: CheckOutcome,
  failsAtOnce: boolean,
): HealthStep {
  if (outcome.ok) {
    return {
      track: {
        ...track,
        status: 'HEALTHY',
        phase: 'PERIODIC',
        nextAt: outcome.at + spec.intervalMs,
      },
      report: { health: 'HEALTHY', outcome, startup: true },
    };
  }
  const deadline = startupDeadline(spec, track);
  if (!failsAtOnce && outcome.at < deadline) {
    // Still starting: check again, but never later than the deadline's own check.
    const nextAt = Math.min(outcome.at + spec.startupIntervalMs, deadline);
    return { track: { ...track, nextAt: Math.max(nextAt, outcome.at) } };
  }
  const errorMessage = failsAtOnce
    ? outcome.errorMessage
    : `no passing health check within startupTimeoutSeconds (${spec.startupTimeoutMs / 1000} s)` +
      (outcome.errorMessage ? `; last: ${outcome.errorMessage}` : '');
  return {
    track: {
      ...track,
      status: 'UNHEALTHY',
      phase: 'PERIODIC',
      consecutiveFailures: 1,
      nextAt: outcome.at + spec.intervalMs,
    },
    report: {
      health: 'UNHEALTHY',
      outcome: { ...outcome, ...(errorMessage ? { errorMessage } : {}) },
      startup: true,
    },
  };
}
