/** Codes a store error carries; the API maps each to its HTTP and gRPC status. */
export type StateErrorCode = 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'ALREADY_EXISTS' | 'CONFLICT';

/**
 * An error of the desired-state stores or their validation. It names the field (for bad
 * input) or the object (for a missing or conflicting one). The API layer turns it into an
 * ApiError with the same code, so the stores need not import the API (no cycle).
 */
export class StateError extends Error {
  override readonly name = 'StateError';
  constructor(
    readonly code: StateErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
