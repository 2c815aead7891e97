/**
 * Replays a committed history into the znode tree under one chroot, transaction by
 * transaction, so a check can look at every state the tree ever was in (not a sample of
 * them). Paths are given relative to the chroot, as Thales names them.
 */
import type { Txn, TxnOp } from './txn-log.js';

/** A znode as the replay holds it. */
export interface ReplayNode {
  data: Buffer;
  /** Session (hex) of an ephemeral znode's owner. */
  ephemeralOwner?: string;
  /** Time of the transaction that last changed it. */
  mtime: number;
  ctime: number;
}

/** One change a transaction made. */
export interface AppliedOp {
  kind: 'create' | 'set' | 'delete';
  path: string;
  before?: ReplayNode;
  after?: ReplayNode;
}

/** One committed transaction that touched the chroot. */
export interface ReplayStep {
  txn: Txn;
  applied: AppliedOp[];
  /**
   * The fence of a fenced write: the latch path (relative) a multi checks first, which is how
   * every leader write is made (src/leader/fenced-writer.ts).
   */
  fence?: string;
  /** The changes are the ephemerals of a closed or expired session, not a write. */
  sessionClose: boolean;
}

/** The tree under a chroot, replayed. */
export class TreeReplay {
  readonly nodes = new Map<string, ReplayNode>();

  constructor(private readonly chroot: string) {}

  /** `path` relative to the chroot, or undefined if it lies outside (or is the chroot). */
  relative(path: string): string | undefined {
    return path.startsWith(`${this.chroot}/`) ? path.slice(this.chroot.length) : undefined;
  }

  /** Applies one committed transaction; undefined if it failed or did not touch the chroot. */
  apply(txn: Txn): ReplayStep | undefined {
    if (txn.failed) return undefined;
    const applied: AppliedOp[] = [];
    let fence: string | undefined;
    txn.ops.forEach((op, i) => {
      if (i === 0 && txn.multi && op.type === 'check') {
        const rel = this.relative(op.path);
        if (rel?.startsWith('/leader/latch-')) fence = rel;
      }
      applied.push(...this.applyOp(op, txn));
    });
    if (applied.length === 0) return undefined;
    const sessionClose = txn.ops.some((o) => o.type === 'closeSession');
    return { txn, applied, ...(fence ? { fence } : {}), sessionClose };
  }

  private applyOp(op: TxnOp, txn: Txn): AppliedOp[] {
    switch (op.type) {
      case 'create': {
        const path = this.relative(op.path);
        if (!path) return [];
        const after: ReplayNode = {
          data: op.data,
          mtime: txn.time,
          ctime: txn.time,
          ...(op.ephemeral ? { ephemeralOwner: txn.session } : {}),
        };
        this.nodes.set(path, after);
        return [{ kind: 'create', path, after }];
      }
      case 'setData': {
        const path = this.relative(op.path);
        if (!path) return [];
        const before = this.nodes.get(path);
        const after: ReplayNode = {
          ...(before ?? { ctime: txn.time }),
          data: op.data,
          mtime: txn.time,
        };
        this.nodes.set(path, after);
        return [{ kind: 'set', path, after, ...(before ? { before } : {}) }];
      }
      case 'delete':
        return this.remove(op.path);
      case 'closeSession': {
        const paths = op.paths.length > 0 ? op.paths : this.ephemeralsOf(txn.session);
        return paths.flatMap((p) => this.remove(p));
      }
      default:
        return [];
    }
  }

  private remove(absolute: string): AppliedOp[] {
    const path = this.relative(absolute);
    if (!path) return [];
    const before = this.nodes.get(path);
    this.nodes.delete(path);
    return [{ kind: 'delete', path, ...(before ? { before } : {}) }];
  }

  private ephemeralsOf(session: string): string[] {
    return [...this.nodes]
      .filter(([, n]) => n.ephemeralOwner === session)
      .map(([p]) => `${this.chroot}${p}`);
  }
}

/** Decodes a znode's JSON (Thales stores JSON everywhere), or undefined. */
export function jsonOf<T = Record<string, unknown>>(node: ReplayNode | undefined): T | undefined {
  if (!node || node.data.length === 0) return undefined;
  try {
    return JSON.parse(node.data.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}
