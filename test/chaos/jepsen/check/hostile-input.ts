/**
 * Invariant 7, "bad input changes nothing", and the API contract around it ("bad input always
 * gets a clear error"): every hostile write must be answered 4xx (a 2xx accepted it, a 5xx is
 * no clear error — except 503 for input only stored state shows bad, while ZooKeeper is
 * unreachable); none of its marker strings may appear in any committed znode path or data;
 * and `hostile_target`, which only hostile writes address, must not change after set-up.
 */
import type { Op } from '../workload/history.js';
import type { Txn } from '../zk/txn-log.js';
import { opRef } from './acked-writes.js';
import { hex } from './leader-fencing.js';
import type { Violation } from './types.js';

/** What a hostile operation recorded as its value. */
interface HostileValue {
  probe: string;
  markers: string[];
  path: string;
  known?: boolean;
  needsState?: boolean;
}

/** The hostile-input checks; `setupEndMs` is when `hostile_target` was last legitimately set. */
export function checkHostileInput(
  ops: readonly Op[],
  txns: readonly Txn[],
  chroot: string,
  setupEndMs: number,
): { violations: Violation[]; probes: number } {
  const violations: Violation[] = [];
  const hostile = ops.filter((o) => o.kind === 'hostile');
  const markers = new Map<string, Op>();
  for (const op of hostile) {
    const v = op.value as HostileValue;
    for (const m of v.markers) markers.set(m, op);
    if (op.status === undefined) continue; // no answer (timeout): nothing to judge
    // Input that only stored state shows bad cannot be judged while ZooKeeper is away.
    if (op.status === 503 && v.needsState) continue;
    if (op.status < 400 || op.status >= 500) {
      violations.push({
        invariant: '7',
        check: op.status < 400 ? 'bad-input-accepted' : 'bad-input-no-clear-error',
        at: op.completeMs,
        message: `${v.probe} (${v.path}) answered ${op.status}${v.known ? ' (a known open issue)' : ''}`,
        evidence: { op: opRef(op), error: op.error },
      });
    }
  }
  const target = `${chroot}/requests/hostile_target`;
  const targetDeploys = `${chroot}/deploys/hostile_target/`;
  for (const txn of txns) {
    if (txn.failed) continue;
    for (const o of txn.ops) {
      if (!('path' in o)) continue;
      const data = 'data' in o ? o.data.toString('latin1') : '';
      for (const [m, op] of markers) {
        if (o.path.includes(m) || data.includes(m)) {
          violations.push({
            invariant: '7',
            check: 'bad-input-persisted',
            at: txn.time,
            message: `${(op.value as HostileValue).probe}: '${m}' was written to ${o.path}`,
            evidence: { op: opRef(op), zxid: hex(txn.zxid) },
          });
        }
      }
      const onTarget = o.path === target || o.path.startsWith(targetDeploys);
      if (onTarget && txn.time > setupEndMs && o.type !== 'check') {
        violations.push({
          invariant: '7',
          check: 'hostile-target-changed',
          at: txn.time,
          message: `${o.type} of ${o.path} after set-up; only hostile writes address it`,
          evidence: { zxid: hex(txn.zxid), session: txn.session },
        });
      }
    }
  }
  return { violations, probes: hostile.length };
}
