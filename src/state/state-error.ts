import { CodedError } from '../runtime/index.js';

/** Codes a store error carries; the API maps each to its HTTP and gRPC status. */
export type StateErrorCode = 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'ALREADY_EXISTS' | 'CONFLICT';

/**
 * An error of the desired-state stores or their validation. It names the field (for bad
 * input) or the object (for a missing or conflicting one). The API layer answers it with its
 * code's status, so the stores need not import the API (no cycle).
 */
export class StateError extends CodedError<StateErrorCode> {
  override readonly name = 'StateError';
}
