/**
 * Invariant 2, "an acknowledged write is never lost", two ways:
 *  - it landed: every acknowledged write has a committed transaction carrying its value inside
 *    its [invocation, completion] window (or, for idempotent writes, the document existed then);
 *  - it survived: each field a client writes is a register, and its final value must be one a
 *    linearizable register could end with — the value of a write no acknowledged write
 *    followed in real time (an acknowledged write w is superseded only by an acknowledged one
 *    invoked after w completed; an unknown-outcome write may land at any time, so it is always
 *    a candidate). Acknowledged kills must have ended their task, acknowledged deploys must
 *    still exist, and the load balancer's final upstreams must be the fold of its successful
 *    requests in commit order.
 */
import type { Op } from '../workload/history.js';
import { jsonOf, type TreeReplay } from '../zk/replay.js';
import type { Violation } from './types.js';
import type { WriteIndex, WriteRecord } from './write-index.js';

/** Slack between the client's clock and ZooKeeper's (one host, one clock: only rounding). */
const SKEW_MS = 50;

type Doc = Record<string, unknown>;
type RequestDoc = { request?: { instances?: number }; state?: string };

/** The values a register may end with, given its writes (`initial` when none was acknowledged). */
export function registerCandidates<V>(writes: readonly { op: Op; value: V }[], initial: V): Set<V> {
  const acked = writes.filter((w) => w.op.outcome === 'ok');
  const out = new Set<V>();
  for (const w of writes) {
    if (w.op.outcome === 'fail') continue;
    const completed = w.op.outcome === 'ok' ? w.op.completeMs : Number.POSITIVE_INFINITY;
    if (!acked.some((a) => a !== w && a.op.invokeMs > completed)) out.add(w.value);
  }
  if (acked.length === 0) out.add(initial);
  return out;
}

/** The lifecycle value a request's final document stands for. */
function lifecycleOf(doc: RequestDoc | undefined): string {
  if (!doc || doc.state === 'DELETING') return 'DELETED';
  return doc.state === 'PAUSED' ? 'PAUSED' : 'ACTIVE'; // SYSTEM_COOLDOWN is the leader's ACTIVE
}

const LIFECYCLE: Partial<Record<Op['kind'], string>> = {
  create: 'ACTIVE',
  pause: 'PAUSED',
  unpause: 'ACTIVE',
  delete: 'DELETED',
};

/** The acknowledged-write checks; `lost` counts the lost acknowledged writes. */
export function checkAckedWrites(
  ops: readonly Op[],
  writes: WriteIndex,
  tree: TreeReplay,
): { violations: Violation[]; lost: number } {
  const violations: Violation[] = [];
  const lost = (op: Op, message: string, evidence?: unknown): void => {
    violations.push({
      invariant: 'lost-write',
      check: `${op.kind}-lost`,
      at: op.completeMs,
      message,
      evidence: { op: opRef(op), ...(evidence ? { evidence } : {}) },
    });
  };
  for (const op of ops) {
    if (op.outcome !== 'ok') continue;
    const why = notLanded(op, writes);
    if (why) lost(op, why);
  }
  checkRegisters(ops, tree, lost);
  checkKillsAndDeploys(ops, tree, lost);
  checkLbServices(ops, writes, tree, lost);
  return { violations, lost: violations.length };
}

/** Why an acknowledged write has no committed transaction, or undefined if it has one. */
function notLanded(op: Op, writes: WriteIndex): string | undefined {
  const from = op.invokeMs - SKEW_MS;
  const to = op.completeMs + SKEW_MS;
  const inWindow = (path: string, match: (w: WriteRecord) => boolean): boolean =>
    writes.of(path).some((w) => w.at >= from && w.at <= to && match(w));
  const rid = op.requestId ?? '';
  const req = `/requests/${rid}`;
  const state = (s: string) => (w: WriteRecord) => (w.doc as RequestDoc | undefined)?.state === s;
  switch (op.kind) {
    case 'create':
    case 'upsert':
    case 'scale': {
      const n = op.value as number;
      const ok = inWindow(req, (w) => (w.doc as RequestDoc | undefined)?.request?.instances === n);
      return ok
        ? undefined
        : `${op.kind} of ${rid} to ${n} instances acknowledged, never committed`;
    }
    case 'pause':
    case 'unpause':
    case 'delete': {
      const want = op.kind === 'pause' ? 'PAUSED' : op.kind === 'unpause' ? 'ACTIVE' : 'DELETING';
      return inWindow(req, state(want))
        ? undefined
        : `${op.kind} of ${rid} acknowledged, never committed`;
    }
    case 'deploy': {
      const path = `/deploys/${rid}/pending/${String(op.value)}`;
      return inWindow(path, (w) => w.kind === 'create')
        ? undefined
        : `deploy ${String(op.value)} of ${rid} acknowledged, never committed`;
    }
    case 'kill': {
      const path = `/intents/kill-task/${String(op.value)}`;
      return writes.existedDuring(path, from, to)
        ? undefined
        : `kill of ${String(op.value)} acknowledged, no intent committed`;
    }
    case 'lb-submit': {
      const id = (op.value as { lbRequestId: string }).lbRequestId;
      const created = writes
        .of(`/lb/requests/${id}`)
        .some((w) => w.kind === 'create' && w.at <= to);
      return created ? undefined : `load-balancer request ${id} acknowledged, never committed`;
    }
    default:
      return undefined;
  }
}

function checkRegisters(
  ops: readonly Op[],
  tree: TreeReplay,
  lost: (op: Op, m: string, e?: unknown) => void,
): void {
  const byRequest = new Map<string, Op[]>();
  for (const op of ops) {
    if (!op.requestId || !(op.kind in LIFECYCLE || ['upsert', 'scale', 'deploy'].includes(op.kind)))
      continue;
    byRequest.set(op.requestId, [...(byRequest.get(op.requestId) ?? []), op]);
  }
  for (const [rid, list] of byRequest) {
    const doc = jsonOf<RequestDoc>(tree.nodes.get(`/requests/${rid}`));
    const finalLife = lifecycleOf(doc);
    const life = list.flatMap((op) =>
      LIFECYCLE[op.kind] ? [{ op, value: LIFECYCLE[op.kind] as string }] : [],
    );
    const lifeOk = registerCandidates(life, 'DELETED');
    const last = list.filter((o) => o.outcome !== 'fail').slice(-1)[0] as Op;
    if (life.length > 0 && !lifeOk.has(finalLife)) {
      lost(
        last,
        `${rid} ended ${finalLife}; its writes allow only ${[...lifeOk].join(' or ')}`,
        tail(life),
      );
    }
    if (finalLife === 'DELETED') continue;
    const sizes = list.flatMap((op) =>
      ['create', 'upsert', 'scale'].includes(op.kind) ? [{ op, value: op.value as number }] : [],
    );
    const sizeOk = registerCandidates(sizes, -1);
    const finalSize = doc?.request?.instances ?? -1;
    if (sizes.length > 0 && !sizeOk.has(finalSize)) {
      lost(
        last,
        `${rid} ended with ${finalSize} instances; its writes allow only ${[...sizeOk].join(' or ')}`,
        tail(sizes),
      );
    }
    const deploys = list.flatMap((op) =>
      op.kind === 'deploy' ? [{ op, value: String(op.value) }] : [],
    );
    const deployOk = registerCandidates(deploys, '(none)');
    const finalDeploy =
      firstChild(tree, `/deploys/${rid}/pending`) ??
      firstChild(tree, `/deploys/${rid}/active`) ??
      '(none)';
    if (
      deploys.length > 0 &&
      !deployOk.has(finalDeploy) &&
      !rolledBack(tree, rid, deployOk, finalDeploy, deploys)
    ) {
      lost(
        last,
        `${rid}'s latest deploy is ${finalDeploy}; its deploys allow only ${[...deployOk].join(' or ')}`,
        tail(deploys),
      );
    }
  }
}

function checkKillsAndDeploys(
  ops: readonly Op[],
  tree: TreeReplay,
  lost: (op: Op, m: string) => void,
): void {
  const activeTasks = new Set<string>();
  for (const path of tree.nodes.keys()) {
    const m = /^\/tasks\/active\/[^/]+\/([^/]+)$/.exec(path);
    if (m) activeTasks.add(m[1] as string);
  }
  for (const op of ops) {
    if (op.outcome !== 'ok') continue;
    if (op.kind === 'kill' && activeTasks.has(String(op.value))) {
      lost(op, `kill of ${String(op.value)} acknowledged; the task is still active at the end`);
    }
    if (op.kind === 'deploy') {
      const rid = op.requestId ?? '';
      if (lifecycleOf(jsonOf<RequestDoc>(tree.nodes.get(`/requests/${rid}`))) === 'DELETED')
        continue;
      const did = String(op.value);
      const found = ['pending', 'active', 'history'].some((k) =>
        tree.nodes.has(`/deploys/${rid}/${k}/${did}`),
      );
      if (!found)
        lost(op, `deploy ${did} of ${rid} acknowledged; it is in none of pending, active, history`);
    }
  }
}

/** The final upstreams of each service must be its successful requests folded in commit order. */
function checkLbServices(
  ops: readonly Op[],
  writes: WriteIndex,
  tree: TreeReplay,
  lost: (op: Op, m: string, e?: unknown) => void,
): void {
  const successes: { zxid: number; request: Doc }[] = [];
  for (const [path, list] of writes.byPath) {
    if (!path.startsWith('/lb/requests/')) continue;
    const won = list.find((w) => (w.doc as { state?: string } | undefined)?.state === 'SUCCESS');
    if (won?.doc) successes.push({ zxid: won.zxid, request: won.doc.request as Doc });
  }
  successes.sort((a, b) => a.zxid - b.zxid);
  const folded = new Map<string, Set<string>>();
  for (const { request } of successes) {
    const id = (request.service as { serviceId: string }).serviceId;
    const set = folded.get(id) ?? new Set<string>();
    const list = (k: string) =>
      ((request[k] as { upstream: string }[] | undefined) ?? []).map((u) => u.upstream);
    if (request.action === 'DELETE') set.clear();
    else if (list('replaceUpstreams').length > 0) {
      set.clear();
      for (const u of list('replaceUpstreams')) set.add(u);
    } else {
      for (const u of list('removeUpstreams')) set.delete(u);
      for (const u of list('addUpstreams')) set.add(u);
    }
    folded.set(id, set);
  }
  const submits = ops.filter((o) => o.kind === 'lb-submit' && o.outcome === 'ok');
  for (const op of submits) {
    const id = (op.value as { lbRequestId: string }).lbRequestId;
    const doc = jsonOf<{ state?: string }>(tree.nodes.get(`/lb/requests/${id}`));
    if (!doc) lost(op, `load-balancer request ${id} acknowledged; gone at the end`);
    else if (doc.state === 'WAITING' || doc.state === 'CANCELING')
      lost(op, `load-balancer request ${id} never finished (${doc.state})`);
  }
  const last = submits[submits.length - 1];
  for (const [serviceId, want] of folded) {
    const doc = jsonOf<{ upstreams?: { upstream: string }[] }>(
      tree.nodes.get(`/lb/services/${serviceId}`),
    );
    const have = new Set((doc?.upstreams ?? []).map((u) => u.upstream));
    const same = have.size === want.size && [...want].every((u) => have.has(u));
    if (!same && last) {
      lost(
        last,
        `/lb/services/${serviceId} holds [${[...have].sort().join(' ')}], its successful requests make [${[...want].sort().join(' ')}]`,
      );
    }
  }
}

/**
 * A deploy the clients last wrote may have been decided since: failed, canceled or overdue,
 * it is in history with its result and the request is back on the deploy before it. The
 * write is then accounted for, not lost (seen: a deploy OVERDUE after minutes without a
 * leader, rolled back to no deploy at all). "The deploy before it" is exactly one: the
 * latest deploy the clients wrote before the candidates whose result is SUCCEEDED, or
 * '(none)' when no such deploy exists; ending on any other deploy is a lost write.
 */
function rolledBack(
  tree: TreeReplay,
  rid: string,
  candidates: ReadonlySet<string>,
  finalDeploy: string,
  deploys: readonly { value: string }[],
): boolean {
  // A SUCCEEDED deploy carries its result in active until the next one moves it to history.
  const resultOf = (id: string) =>
    (['active', 'history'] as const)
      .map(
        (k) =>
          jsonOf<{ deployResult?: { deployState?: string } }>(
            tree.nodes.get(`/deploys/${rid}/${k}/${id}`),
          )?.deployResult?.deployState,
      )
      .find((state) => state !== undefined);
  const decided = [...candidates].every((id) => {
    const state = resultOf(id);
    return state !== undefined && state !== 'SUCCEEDED';
  });
  if (!decided) return false;
  const firstCandidate = deploys.findIndex((d) => candidates.has(d.value));
  const before = deploys.slice(0, firstCandidate < 0 ? deploys.length : firstCandidate);
  const restored = before.reverse().find((d) => resultOf(d.value) === 'SUCCEEDED');
  return finalDeploy === (restored?.value ?? '(none)');
}

function firstChild(tree: TreeReplay, dir: string): string | undefined {
  for (const path of tree.nodes.keys()) {
    if (path.startsWith(`${dir}/`) && !path.slice(dir.length + 1).includes('/'))
      return path.slice(dir.length + 1);
  }
  return undefined;
}

function tail<V>(writes: readonly { op: Op; value: V }[]): unknown {
  return writes.slice(-4).map((w) => ({ ...opRef(w.op), value: w.value }));
}

/** A short reference to an operation for evidence. */
export function opRef(op: Op): Record<string, unknown> {
  return {
    id: op.id,
    process: op.process,
    kind: op.kind,
    target: op.target,
    outcome: op.outcome,
    invokeMs: op.invokeMs,
    completeMs: op.completeMs,
    ...(op.status ? { status: op.status } : {}),
  };
}
