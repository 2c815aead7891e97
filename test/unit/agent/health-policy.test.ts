import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CheckOutcome,
  type HealthPolicySpec,
  type HealthTrack,
  onCheck,
  onClock,
  startTracking,
} from '../../../src/agent/index.js';

const spec: HealthPolicySpec = {
  kind: 'HTTP',
  startupDelayMs: 1000,
  startupTimeoutMs: 10_000,
  startupIntervalMs: 2000,
  intervalMs: 5000,
  maxRetries: 2,
  failureStatusCodes: [418],
  considerHealthyAfterMs: 3000,
};
const pass = (at: number): CheckOutcome => ({ ok: true, statusCode: 200, durationMs: 1, at });
const refused = (at: number): CheckOutcome => ({
  ok: false,
  durationMs: 1,
  at,
  errorMessage: 'connection refused',
});
const status = (code: number, at: number): CheckOutcome => ({
  ok: false,
  statusCode: code,
  durationMs: 1,
  at,
});

describe('health policy (pure)', () => {
  it('startup: waits the delay, retries quietly, becomes healthy on the first pass', () => {
    let t = startTracking(spec, 0, 0);
    expect(t).toMatchObject({ status: 'STARTING', phase: 'STARTUP', nextAt: 1000 });
    let s = onCheck(spec, t, refused(1000));
    expect(s.report).toBeUndefined();
    expect(s.track.nextAt).toBe(3000);
    s = onCheck(spec, s.track, status(503, 3000));
    expect(s.report).toBeUndefined();
    s = onCheck(spec, s.track, pass(5000));
    expect(s.report).toMatchObject({ health: 'HEALTHY', startup: true });
    expect(s.track).toMatchObject({ status: 'HEALTHY', phase: 'PERIODIC', nextAt: 10_000 });
    t = s.track;
    expect(onCheck(spec, t, pass(10_000)).report).toBeUndefined();
  });

  it('startup: no pass by delay + startupTimeout fails the task, checks go on', () => {
    let t: HealthTrack = startTracking(spec, 0, 0);
    let at = 1000;
    let report;
    while (!report) {
      const s = onCheck(spec, t, refused(at));
      report = s.report;
      t = s.track;
      expect(t.nextAt! > at || report).toBeTruthy();
      at = t.nextAt!;
    }
    expect(report.health).toBe('UNHEALTHY');
    expect(report.outcome.at).toBeGreaterThanOrEqual(11_000);
    expect(report.outcome.errorMessage).toContain('startupTimeoutSeconds');
    expect(t).toMatchObject({ status: 'UNHEALTHY', phase: 'PERIODIC' });
    // It may recover: a pass makes it healthy again, reported.
    expect(onCheck(spec, t, pass(at)).report?.health).toBe('HEALTHY');
  });

  it('a failure status code fails at once, in startup or later', () => {
    const t = startTracking(spec, 0, 0);
    expect(onCheck(spec, t, status(418, 1000)).report?.health).toBe('UNHEALTHY');
    const healthy = onCheck(spec, t, pass(1000)).track;
    expect(onCheck(spec, healthy, status(418, 6000)).report?.health).toBe('UNHEALTHY');
  });

  it('periodic: more than maxRetries failures in a row make it unhealthy; each is reported', () => {
    let t = onCheck(spec, startTracking(spec, 0, 0), pass(1000)).track;
    const reports: string[] = [];
    for (let i = 0; i < 5; i++) {
      const s = onCheck(spec, t, status(500, 6000 + i * 5000));
      if (s.report) reports.push(s.report.health);
      t = s.track;
    }
    // Two failures are retried (HEALTHY reported with the failed check), the third fails it;
    // an unhealthy task's further failures are not reported again.
    expect(reports).toEqual(['HEALTHY', 'HEALTHY', 'UNHEALTHY']);
  });

  it('no health check: healthy once running for considerHealthyAfterRunningForSeconds', () => {
    const running = { ...spec, kind: 'RUNNING' };
    const t = startTracking(running, 100, 100);
    expect(t.nextAt).toBe(3100);
    expect(onClock(running, t, 3000).report).toBeUndefined();
    const s = onClock(running, t, 3100);
    expect(s.report?.health).toBe('HEALTHY');
    expect(s.track.nextAt).toBeNull();
    expect(onClock(running, s.track, 9999).report).toBeUndefined();
  });

  it('a restarted agent resumes a healthy task outside its startup phase', () => {
    const t = startTracking(spec, 0, 1_000_000, 'HEALTHY');
    expect(t).toMatchObject({ status: 'HEALTHY', phase: 'PERIODIC', nextAt: 1_000_000 });
    // A failed check long after the startup deadline is a retry, not a startup failure.
    expect(onCheck(spec, t, refused(1_000_001)).report?.health).toBe('HEALTHY');
  });

  it('property: unhealthy only after a failure code or more than maxRetries failures in a row', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.array(fc.constantFrom('pass', 'refused', '500', '418'), { maxLength: 60 }),
        (maxRetries, checks) => {
          const sp = { ...spec, maxRetries };
          let t = onCheck(sp, startTracking(sp, 0, 0), pass(1000)).track;
          let run = 0;
          let reports = 0;
          let failuresWhileHealthy = 0;
          let changes = 0;
          let at = 1000;
          for (const c of checks) {
            at += 5000;
            const outcome =
              c === 'pass' ? pass(at) : c === 'refused' ? refused(at) : status(Number(c), at);
            const before = t.status;
            const s = onCheck(sp, t, outcome);
            run = c === 'pass' ? 0 : run + 1;
            if (s.track.status === 'UNHEALTHY' && before === 'HEALTHY') {
              expect(c === '418' || run > maxRetries).toBe(true);
            }
            if (s.track.status !== before) changes++;
            if (!outcome.ok && before === 'HEALTHY') failuresWhileHealthy++;
            if (s.report) reports++;
            t = s.track;
            expect(t.nextAt).toBe(at + sp.intervalMs);
          }
          // Reports are bounded by what matters: changes and the failed checks of a healthy task.
          expect(reports).toBeLessThanOrEqual(changes + failuresWhileHealthy);
        },
      ),
    );
  });
});
