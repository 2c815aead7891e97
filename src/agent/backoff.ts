/** Exponential back-off bounds. */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

/**
 * The delay before reconnect attempt `attempt` (1-based): exponential with "equal jitter"
 * (half fixed, half random), so a fleet of agents does not reconnect in lock-step after a
 * leader failover, yet never retries immediately in a loop.
 */
export function nextBackoffMs(attempt: number, o: BackoffOptions, random = Math.random): number {
  const exp = Math.min(o.capMs, o.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}
