import { pino, type Logger } from 'pino';

/** The root logger of a daemon: JSON lines on stdout, level from `THALES_LOG_LEVEL`. */
export function makeLogger(bindings: Record<string, unknown>, level?: string): Logger {
  return pino({
    level: level ?? process.env.THALES_LOG_LEVEL ?? 'info',
    base: { pid: process.pid, ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

export type { Logger };
