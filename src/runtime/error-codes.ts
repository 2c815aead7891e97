import { status as GrpcStatus } from '@grpc/grpc-js';

/** Every error code a Thales API (scheduler, agent, lb-agent) returns. */
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

/**
 * The base of every typed Thales error: a code from the registry, a message that names the
 * field or object, details for the answer's body, and the cause. Domain layers raise their own
 * subclasses (StateError, LbError…); only API edges turn a code into an HTTP or gRPC status.
 */
export class CodedError<C extends ErrorCode = ErrorCode> extends Error {
  constructor(
    readonly code: C,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The JSON body of an HTTP error answer. */
  toJSON(): { error: { code: C; message: string } & Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

/**
 * An error of a lower layer that knows its own answer (a ZooKeeper connection loss is
 * UNAVAILABLE, not a bug): {@link toCodedError} asks it instead of calling it INTERNAL.
 */
export interface HasCodedForm {
  toCodedError(): CodedError;
}

function hasCodedForm(err: unknown): err is HasCodedForm {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as Partial<HasCodedForm>).toCodedError === 'function'
  );
}

/**
 * Anything thrown as a {@link CodedError}: coded errors as they are, errors that know their
 * coded form ({@link HasCodedForm}) as they say; unknown errors become INTERNAL (cause kept).
 */
export function toCodedError(err: unknown): CodedError {
  if (err instanceof CodedError) return err;
  if (hasCodedForm(err)) return err.toCodedError();
  return new CodedError('INTERNAL', 'internal error', {}, { cause: err });
}

/** The gRPC error a handler passes to its callback (or emits on a stream) for `err`. */
export function toGrpcError(err: unknown): { code: GrpcStatus; details: string } {
  const e = toCodedError(err);
  return { code: ERROR_STATUS[e.code].grpc, details: `${e.code}: ${e.message}` };
}
