/**
 * The `thales` exit codes (docs/api.md, "CLI"): scripts can tell "the cluster said no" from
 * "nobody answered" from "you typed it wrong".
 */
export const EXIT = {
  /** Done. */
  OK: 0,
  /** The cluster refused the request (4xx: invalid input, not found, conflict), or a daemon failed to start. */
  REFUSED: 1,
  /** Bad usage: unknown command or flag, missing or malformed argument. */
  USAGE: 2,
  /** No replica could be reached (every URL failed to connect or timed out). */
  UNREACHABLE: 3,
  /** A replica answered with a server-side failure (5xx: unavailable, internal). */
  SERVER_ERROR: 4,
} as const;

/** One of {@link EXIT}. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as `thales: <message>` and exits with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
