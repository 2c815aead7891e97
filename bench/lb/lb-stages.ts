/**
 * The per-stage breakdown of the lb bench: joins the bench's own timestamps with the stage
 * events the recorder took in the replica and in each lb-agent (stage-recorder.ts). All are
 * wall-clock milliseconds of one machine (`performance.timeOrigin + performance.now()`).
 */
import type { LbBatchEvent, LbStageEvent } from '../../src/lb/lb-stage-events.js';
import { percentile } from '../stats.js';

/** What the bench itself saw of one request. */
export interface BenchSample {
  requestId: string;
  serviceId: string;
  submitted: number;
  observed: number;
}

/** The stages, in order: [label, from, to] over the named timestamps of a request. */
const STAGES: [string, string, string][] = [
  ['submit → persisted (gRPC + ZK create)', 'submitted', 'persisted'],
  ['persisted → leader sees it (watch + read)', 'persisted', 'seen'],
  ['seen → APPLY_SENT persisted', 'seen', 'applySent'],
  ['APPLY_SENT → pushed on the stream', 'applySent', 'pushed'],
  ['pushed → agent receives', 'pushed', 'received'],
  ['received → batch starts (queued behind a batch)', 'received', 'start'],
  ['batch start → files written', 'start', 'written'],
  // A batch that changes only members (the Lua balancer's dictionary): no test, no reload.
  ['written → members stored in nginx (no reload)', 'written', 'membersPosted'],
  ['members stored → ACK sent (no reload)', 'membersPosted', 'ackedNoReload'],
  // A batch with a config change: nginx -t and a reload.
  ['written → nginx -t done', 'written', 'tested'],
  ['tested → SIGHUP (aggregates, version written)', 'tested', 'signalled'],
  ['SIGHUP → new generation served', 'signalled', 'served'],
  ['served → old workers retired', 'served', 'retired'],
  ['retired → ACK sent', 'retired', 'acked'],
  ['ACK sent → leader has every ACK', 'acked', 'leaderAcked'],
  ['every ACK → SUCCESS persisted', 'leaderAcked', 'committed'],
  ['SUCCESS persisted → bench observes it', 'committed', 'observed'],
];

/** One row per stage: p50 and p99 (ms) over the requests where the stage was seen. */
export function stageBreakdown(
  samples: readonly BenchSample[],
  leader: readonly LbStageEvent[],
  agents: Record<string, readonly LbBatchEvent[]>,
): { stage: string; n: number; p50: number; p99: number }[] {
  const byRequest = new Map<string, Map<string, number>>();
  for (const m of leader) {
    let r = byRequest.get(m.key);
    if (!r) byRequest.set(m.key, (r = new Map()));
    r.set(m.stage, Math.max(r.get(m.stage) ?? 0, m.at));
  }
  const perStage = STAGES.map(() => [] as number[]);
  for (const s of samples) {
    const l = byRequest.get(s.requestId) ?? new Map<string, number>();
    const t: Record<string, number | undefined> = {
      submitted: s.submitted,
      observed: s.observed,
      persisted: l.get('persisted'),
      seen: l.get('seen'),
      applySent: l.get('applySent'),
      committed: l.get('committed'),
    };
    // The critical agent: the one whose ACK reached the leader last.
    let critical: string | undefined;
    for (const id of Object.keys(agents)) {
      const a = l.get(`acked:${id}`);
      if (a !== undefined && (t.leaderAcked === undefined || a > t.leaderAcked)) {
        t.leaderAcked = a;
        critical = id;
      }
    }
    if (critical) {
      t.pushed = l.get(`pushed:${critical}`);
      const batch = agents[critical]?.find(
        (b) => (b.received[s.serviceId] ?? -Infinity) >= s.submitted,
      );
      if (batch) {
        t.received = batch.received[s.serviceId];
        const reloaded = batch.signalled !== undefined;
        Object.assign(t, {
          start: batch.start,
          written: batch.written,
          membersPosted: reloaded ? undefined : batch.membersPosted,
          ackedNoReload: reloaded ? undefined : batch.acked,
          tested: reloaded ? batch.tested : undefined,
          signalled: batch.signalled,
          served: batch.served,
          retired: batch.retired,
          acked: batch.acked,
        });
      }
    }
    STAGES.forEach(([, from, to], i) => {
      const a = t[from];
      const b = t[to];
      if (a !== undefined && b !== undefined) perStage[i]?.push(b - a);
    });
  }
  return STAGES.map(([stage], i) => {
    const sorted = (perStage[i] ?? []).sort((a, b) => a - b);
    return {
      stage,
      n: sorted.length,
      p50: Math.round(percentile(sorted, 50)),
      p99: Math.round(percentile(sorted, 99)),
    };
  });
}
