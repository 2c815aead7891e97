import type { Logger } from 'pino';

/** The part of `process` {@link exitOnProcessFault} uses (a test passes an emitter). */
export interface FaultableProcess {
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  on(event: 'uncaughtException', listener: (err: Error, origin: string) => void): unknown;
  off(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  off(event: 'uncaughtException', listener: (err: Error, origin: string) => void): unknown;
  exit(code: number): void;
}

/** The exit status of a daemon ended by a fault (Node's own for an uncaught exception). */
export const FAULT_EXIT_CODE = 1;

/**
 * Makes an unhandled rejection or uncaught exception end the daemon with one structured
 * fatal line (`err`, `origin`) and a non-zero exit. Node would end it anyway, but with a
 * plain stack trace on stderr that no log reader sees; and a daemon must not run on in a
 * state nobody knows. pino writes synchronously to its default destination, so the line is
 * out before the exit. Only processes (`thales <daemon>` commands) call this, never a
 * library: a test that starts a replica in-process keeps vitest's own handling. Returns the
 * uninstall.
 */
export function exitOnProcessFault(logger: Logger, proc: FaultableProcess = process): () => void {
  let exiting = false;
  const die = (err: unknown, origin: string): void => {
    // A fault while logging the first one must not loop: exit regardless.
    if (!exiting) {
      exiting = true;
      try {
        logger.fatal({ err, origin }, `${origin}; exiting`);
        logger.flush();
      } catch {
        // nothing more can be said
      }
    }
    proc.exit(FAULT_EXIT_CODE);
  };
  const onRejection = (reason: unknown): void => die(reason, 'unhandledRejection');
  const onException = (err: Error, origin: string): void => die(err, origin);
  proc.on('unhandledRejection', onRejection);
  proc.on('uncaughtException', onException);
  return () => {
    proc.off('unhandledRejection', onRejection);
    proc.off('uncaughtException', onException);
  };
}
