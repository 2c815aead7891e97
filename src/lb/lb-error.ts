import { CodedError } from '../runtime/index.js';

/**
 * An error of the load-balancer manager, its stores and its validation: the code says what
 * went wrong (INVALID_ARGUMENT naming the field, NOT_FOUND, CONFLICT, NOT_LEADER), and the
 * API edges answer it with the registry's status.
 */
export class LbError extends CodedError {
  override readonly name = 'LbError';
}
