import zookeeper from 'node-zookeeper-client';
import { CodedError, type HasCodedForm } from '../runtime/index.js';

/** ZooKeeper error names this codebase distinguishes (from the server's KeeperException codes). */
export type ZkErrorCode =
  | 'NO_NODE'
  | 'NODE_EXISTS'
  | 'BAD_VERSION'
  | 'NOT_EMPTY'
  | 'NO_CHILDREN_FOR_EPHEMERALS'
  | 'CONNECTION_LOSS'
  | 'OPERATION_TIMEOUT'
  | 'SESSION_EXPIRED'
  | 'SESSION_MOVED'
  | 'NOT_CONNECTED'
  | 'MARSHALLING_ERROR'
  | 'OTHER';

const CODES: Record<number, ZkErrorCode> = {
  [zookeeper.Exception.NO_NODE]: 'NO_NODE',
  [zookeeper.Exception.NODE_EXISTS]: 'NODE_EXISTS',
  [zookeeper.Exception.BAD_VERSION]: 'BAD_VERSION',
  [zookeeper.Exception.NOT_EMPTY]: 'NOT_EMPTY',
  [zookeeper.Exception.NO_CHILDREN_FOR_EPHEMERALS]: 'NO_CHILDREN_FOR_EPHEMERALS',
  [zookeeper.Exception.CONNECTION_LOSS]: 'CONNECTION_LOSS',
  [zookeeper.Exception.OPERATION_TIMEOUT]: 'OPERATION_TIMEOUT',
  [zookeeper.Exception.SESSION_EXPIRED]: 'SESSION_EXPIRED',
  [-118]: 'SESSION_MOVED', // not exported by node-zookeeper-client
  [zookeeper.Exception.MARSHALLING_ERROR]: 'MARSHALLING_ERROR',
};

/**
 * The one table of which ZooKeeper errors are worth retrying, and how.
 * Connection loss and timeouts are transient; an expired session needs a new session
 * (handled by the connection, not by retrying the call); everything else is an answer.
 */
export const ZK_RETRY_POLICY: Record<ZkErrorCode, { retryable: boolean; backoffMs: number }> = {
  CONNECTION_LOSS: { retryable: true, backoffMs: 100 },
  OPERATION_TIMEOUT: { retryable: true, backoffMs: 200 },
  NOT_CONNECTED: { retryable: true, backoffMs: 200 },
  SESSION_MOVED: { retryable: true, backoffMs: 100 },
  SESSION_EXPIRED: { retryable: false, backoffMs: 0 },
  NO_NODE: { retryable: false, backoffMs: 0 },
  NODE_EXISTS: { retryable: false, backoffMs: 0 },
  BAD_VERSION: { retryable: false, backoffMs: 0 },
  NOT_EMPTY: { retryable: false, backoffMs: 0 },
  NO_CHILDREN_FOR_EPHEMERALS: { retryable: false, backoffMs: 0 },
  MARSHALLING_ERROR: { retryable: false, backoffMs: 0 },
  OTHER: { retryable: false, backoffMs: 0 },
};

/**
 * Codes meaning this replica could not reach ZooKeeper: the APIs answer them 503 UNAVAILABLE
 * with `retryable: true` (a write's outcome is unknown; retrying it is the client's call).
 */
const UNREACHABLE: ReadonlySet<ZkErrorCode> = new Set([
  'CONNECTION_LOSS',
  'OPERATION_TIMEOUT',
  'NOT_CONNECTED',
  'SESSION_EXPIRED',
  'SESSION_MOVED',
]);

/** A ZooKeeper failure with a typed code, the path involved and the original error. */
export class ZkError extends Error implements HasCodedForm {
  override readonly name = 'ZkError';

  constructor(
    readonly code: ZkErrorCode,
    readonly path: string,
    options?: { cause?: unknown; opIndex?: number },
  ) {
    super(`ZooKeeper ${code} at ${path}`, options);
    this.opIndex = options?.opIndex;
  }

  /** For a failed `multi`: the index of the op that failed, when known. */
  readonly opIndex: number | undefined;

  /** Whether retrying the same call may succeed (see {@link ZK_RETRY_POLICY}). */
  get retryable(): boolean {
    return ZK_RETRY_POLICY[this.code].retryable;
  }

  /** How an API answers it: UNAVAILABLE when ZooKeeper was out of reach, else INTERNAL. */
  toCodedError(): CodedError {
    if (!UNREACHABLE.has(this.code))
      return new CodedError('INTERNAL', 'internal error', {}, { cause: this });
    const message = `ZooKeeper ${this.code} on this replica: retry (a write may or may not have been applied)`;
    return new CodedError('UNAVAILABLE', message, { retryable: true }, { cause: this });
  }
}

/** Converts a node-zookeeper-client exception (or anything thrown) into a {@link ZkError}. */
export function toZkError(err: unknown, path: string, opIndex?: number): ZkError {
  if (err instanceof ZkError) return err;
  const code =
    err && typeof (err as { getCode?: unknown }).getCode === 'function'
      ? (CODES[(err as { getCode(): number }).getCode()] ?? 'OTHER')
      : 'OTHER';
  return new ZkError(code, path, { cause: err, ...(opIndex !== undefined ? { opIndex } : {}) });
}
