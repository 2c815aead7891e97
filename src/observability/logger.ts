import { type DestinationStream, pino, type Logger } from 'pino';

/**
 * The root logger of a daemon: JSON lines on stdout (or `destination`, e.g. stderr for a
 * command whose stdout is its output), level from `THALES_LOG_LEVEL`.
 */
export function makeLogger(
  bindings: Record<string, unknown>,
  level?: string,
  destination?: DestinationStream,
): Logger {
  const options = {
    level: level ?? process.env.THALES_LOG_LEVEL ?? 'info',
    base: { pid: process.pid, ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
