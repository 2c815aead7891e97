/**
 * Every committed change of the documents clients write (requests, deploys, kill intents,
 * load-balancer requests and services), by path, in commit order: what the acknowledged-write
 * check looks a client's write up in.
 */
import type { ReplayStep, TreeReplay } from '../zk/replay.js';
import { jsonOf } from '../zk/replay.js';
import type { ReplayVisitor } from './types.js';

/** One committed change of one document. */
export interface WriteRecord {
  kind: 'create' | 'set' | 'delete';
  at: number;
  zxid: number;
  /** The document after the change (undefined for a delete). */
  doc?: Record<string, unknown>;
}

const INDEXED = [
  /^\/requests\/[^/]+$/,
  /^\/deploys\/[^/]+\/(pending|active|history)\/[^/]+$/,
  /^\/intents\/kill-task\/[^/]+$/,
  /^\/lb\/requests\/[^/]+$/,
  /^\/lb\/services\/[^/]+$/,
];

/** The index, built by a replay pass. */
export class WriteIndex implements ReplayVisitor {
  readonly byPath = new Map<string, WriteRecord[]>();

  onStep(step: ReplayStep, _tree: TreeReplay): void {
    for (const a of step.applied) {
      if (!INDEXED.some((re) => re.test(a.path))) continue;
      const doc = a.after ? jsonOf(a.after) : undefined;
      const record: WriteRecord = {
        kind: a.kind,
        at: step.txn.time,
        zxid: step.txn.zxid,
        ...(doc ? { doc } : {}),
      };
      const list = this.byPath.get(a.path) ?? [];
      list.push(record);
      this.byPath.set(a.path, list);
    }
  }

  /** The changes of `path` (empty if never written). */
  of(path: string): readonly WriteRecord[] {
    return this.byPath.get(path) ?? [];
  }

  /** Whether `path` existed at some moment of [from, to]. */
  existedDuring(path: string, from: number, to: number): boolean {
    let exists = false;
    for (const w of this.of(path)) {
      if (w.at > to) break;
      // It existed at `from` already, or this change (inside the window) created or set it.
      if (w.at >= from && (exists || w.kind !== 'delete')) return true;
      exists = w.kind !== 'delete';
    }
    return exists;
  }
}
