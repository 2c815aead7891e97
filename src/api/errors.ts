import { CodedError, type ErrorCode } from '../runtime/index.js';

/**
 * An error the API layer itself raises (malformed bodies, unknown routes, bad path
 * parameters). Domain layers raise their own {@link CodedError} subclasses; the registry in
 * `runtime/error-codes.ts` maps every code to its HTTP and gRPC status.
 */
export class ApiError extends CodedError {
  override readonly name = 'ApiError';
}

export type { ErrorCode };
