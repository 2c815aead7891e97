/**
 * Detached work: a promise nobody awaits (a flush started from a callback, a retry from a
 * timer). Node 20 ends the process on a rejection nobody handles, so every detached promise
 * goes through {@link detach}, which logs it; the lint rule `no-floating-promises` (with
 * `ignoreVoid: false`) refuses a bare `void promise` in src/.
 */
import type { Logger } from 'pino';

/**
 * Lets `work` run without awaiting it; a rejection is logged at error level as
 * `<what> failed` with the error, and then, if given, `onError` runs (a retry, a close).
 * Use it only where the component has nothing better to do with the failure than that:
 * where a failure has a meaning (retry, mark lost), handle it in the work itself.
 */
export function detach(
  work: Promise<unknown>,
  logger: Pick<Logger, 'error'>,
  what: string,
  onError?: (err: unknown) => void,
): void {
  work.catch((err: unknown) => {
    logger.error({ err, what }, `${what} failed`);
    onError?.(err);
  });
}
