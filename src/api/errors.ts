import { status as GrpcStatus } from '@grpc/grpc-js';
import { ZkError } from '../coordination/index.js';
import { StateError } from '../state/index.js';

/** Every error code the APIs return. */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'NOT_LEADER'
  | 'FENCED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

/** Each code's HTTP and gRPC status; `Record` makes the compiler check every code is mapped. */
export const ERROR_STATUS: Record<ErrorCode, { http: number; grpc: GrpcStatus }> = {
  INVALID_ARGUMENT: { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  NOT_FOUND: { http: 404, grpc: GrpcStatus.NOT_FOUND },
  ALREADY_EXISTS: { http: 409, grpc: GrpcStatus.ALREADY_EXISTS },
  CONFLICT: { http: 409, grpc: GrpcStatus.ABORTED },
  PAYLOAD_TOO_LARGE: { http: 413, grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  NOT_LEADER: { http: 503, grpc: GrpcStatus.UNAVAILABLE },
  FENCED: { http: 409, grpc: GrpcStatus.FAILED_PRECONDITION },
  UNAVAILABLE: { http: 503, grpc: GrpcStatus.UNAVAILABLE },
  INTERNAL: { http: 500, grpc: GrpcStatus.INTERNAL },
};

/** An error the APIs turn into a response: a code, a message naming the field, details. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The JSON body of an HTTP error response. */
  toJSON(): { error: { code: ErrorCode; message: string } & Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

/**
 * Wraps anything thrown into an {@link ApiError}. A ZooKeeper error the retry table calls
 * retryable (the replica's connection to the ensemble was lost, e.g. while a member
 * restarts) is UNAVAILABLE: the client may retry, and a write may or may not have been
 * applied. Other unknown errors become INTERNAL.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof StateError)
    return new ApiError(err.code, err.message, err.details, { cause: err });
  if (err instanceof ZkError && err.retryable) {
    const message = `ZooKeeper ${err.code} on this replica: retry (a write may or may not have been applied)`;
    return new ApiError('UNAVAILABLE', message, { retryable: true }, { cause: err });
  }
  return new ApiError('INTERNAL', 'internal error', {}, { cause: err });
}
