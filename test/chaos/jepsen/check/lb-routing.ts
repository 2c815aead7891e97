/**
 * Invariant 5, "an upstream is added only after its task is healthy, and removed from every
 * lb-agent before its task is killed", from two sources:
 *  - what nginx did: every answer through nginx names the upstreams nginx tried; each must
 *    belong to a task that was TASK_RUNNING (health checks do not exist yet: running is the
 *    health there is) before the answer came, and whose kill was not requested before the
 *    request was sent;
 *  - what nginx was given: each sample of the lb-agent's members file, the same way.
 * An upstream is mapped to the task holding that host:port then: the latest task created with
 * it (ports are never shared by two active tasks of one agent — invariant 4 checks that).
 */
import type { SandboxTask } from '../observe/agent-sampler.js';
import type { LbSample } from '../observe/lb-sampler.js';
import type { Op } from '../workload/history.js';
import type { NginxResult } from '../workload/readers.js';
import type { TaskTimeline } from './active-tasks.js';
import type { Violation } from './types.js';

/** A task's moments relevant to routing. */
interface Routed {
  timeline: TaskTimeline;
  killRequestedAt?: number;
}

/** Upstream → the tasks that held it, oldest first. */
function indexByUpstream(
  timelines: ReadonlyMap<string, TaskTimeline>,
  sandboxes: ReadonlyMap<string, SandboxTask>,
  serviceRequestId: string,
): Map<string, Routed[]> {
  const out = new Map<string, Routed[]>();
  for (const t of timelines.values()) {
    if (t.requestId !== serviceRequestId || t.ports.length === 0) continue;
    const upstream = `${t.host}:${t.ports[0]}`;
    const killRequestedAt = sandboxes.get(t.taskId)?.killRequestedAt;
    const list = out.get(upstream) ?? [];
    list.push({ timeline: t, ...(killRequestedAt === undefined ? {} : { killRequestedAt }) });
    out.set(upstream, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.timeline.createdAt - b.timeline.createdAt);
  return out;
}

function holderAt(list: readonly Routed[] | undefined, at: number): Routed | undefined {
  let found: Routed | undefined;
  for (const r of list ?? []) if (r.timeline.createdAt <= at) found = r;
  return found;
}

/** The routing checks. */
export function checkLbRouting(input: {
  ops: readonly Op[];
  lbSamples: readonly LbSample[];
  timelines: ReadonlyMap<string, TaskTimeline>;
  sandboxes: ReadonlyMap<string, SandboxTask>;
  serviceRequestId: string;
}): { violations: Violation[]; routedAnswers: number; samplesWithMembers: number } {
  const index = indexByUpstream(input.timelines, input.sandboxes, input.serviceRequestId);
  const violations: Violation[] = [];
  const seen = new Set<string>();
  const flag = (key: string, v: Violation): void => {
    if (seen.has(key)) return;
    seen.add(key);
    violations.push(v);
  };
  /** Checks that `upstream` was a running, not-being-killed task over [from, to]. */
  const judge = (
    source: string,
    upstream: string,
    from: number,
    to: number,
    ref: unknown,
  ): void => {
    const holder = holderAt(index.get(upstream), to);
    if (!holder) {
      flag(`${source}:none:${upstream}`, {
        invariant: '5',
        check: `${source}-upstream-without-task`,
        at: to,
        message: `${source} used ${upstream}, which no task of ${input.serviceRequestId} held`,
        evidence: ref,
      });
      return;
    }
    const t = holder.timeline;
    if (t.runningAt === undefined || t.runningAt > to) {
      flag(`${source}:early:${t.taskId}`, {
        invariant: '5',
        check: `${source}-routed-before-running`,
        at: to,
        message: `${source} used ${upstream} (${t.taskId}) before its task was TASK_RUNNING (${t.runningAt ?? 'never'})`,
        evidence: ref,
      });
    }
    if (holder.killRequestedAt !== undefined && holder.killRequestedAt < from) {
      flag(`${source}:late:${t.taskId}`, {
        invariant: '5',
        check: `${source}-routed-after-kill`,
        at: from,
        message: `${source} used ${upstream} (${t.taskId}) ${from - holder.killRequestedAt} ms after its kill was requested`,
        evidence: { ...((ref as object) ?? {}), killRequestedAt: holder.killRequestedAt },
      });
    }
  };
  let routedAnswers = 0;
  for (const op of input.ops) {
    if (op.kind !== 'nginx') continue;
    const r = op.result as NginxResult | undefined;
    if (!r || r.upstreams.length === 0) continue;
    routedAnswers++;
    for (const u of r.upstreams) {
      judge('nginx', u, op.invokeMs, op.completeMs, {
        op: op.id,
        upstreams: r.upstreams,
        answeredBy: r.taskId,
      });
    }
  }
  let samplesWithMembers = 0;
  for (const s of input.lbSamples) {
    if (!s.members || s.members.length === 0) continue;
    samplesWithMembers++;
    for (const u of s.members)
      judge('lb-members', u, s.at, s.at, { sampledAt: s.at, members: s.members });
  }
  return { violations, routedAnswers, samplesWithMembers };
}
