/** What the checks report, and the replay visitor they share. */
import { type ReplayStep, TreeReplay } from '../zk/replay.js';
import type { Txn } from '../zk/txn-log.js';

/**
 * The invariant a violation breaks: DESIGN.md's 1–7, `lost-write` for an acknowledged write
 * missing from the final state (invariant 2's own count), `reconcile` for agents and cluster
 * disagreeing after the run healed, `crash` for a process that exited without being killed.
 */
export type InvariantId =
  '1' | '2' | '3' | '4' | '5' | '6' | '7' | 'lost-write' | 'reconcile' | 'crash';

/** One violation, with what proves it. */
export interface Violation {
  invariant: InvariantId;
  /** The check that found it (stable name, for grouping). */
  check: string;
  /** When it happened or was first seen (ms since the epoch). */
  at?: number;
  message: string;
  evidence?: unknown;
}

/** A pass over the replayed history. */
export interface ReplayVisitor {
  onStep(step: ReplayStep, tree: TreeReplay): void;
}

/** Replays `txns` under `chroot`, showing every visitor each step; returns the final tree. */
export function replayAll(
  txns: readonly Txn[],
  chroot: string,
  visitors: readonly ReplayVisitor[],
): TreeReplay {
  const tree = new TreeReplay(chroot);
  for (const txn of txns) {
    const step = tree.apply(txn);
    if (step) for (const v of visitors) v.onStep(step, tree);
  }
  return tree;
}
