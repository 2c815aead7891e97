/**
 * Pure crash-loop policy for SERVICE and WORKER tasks: each failure of an instance doubles its
 * relaunch delay (from `baseMs` up to `maxMs`); `cooldownAfter` failures of a request within
 * `windowMs` put the request in SYSTEM_COOLDOWN for `cooldownMs`. Killed and lost tasks are not
 * crashes. State lives in the leader's memory: a new leader starts with a clean slate.
 */
import { instanceKey } from './reconcile-plan.js';

/** Tunables of {@link CrashBackoff}. */
export interface CrashBackoffOptions {
  baseMs: number;
  maxMs: number;
  windowMs: number;
  cooldownAfter: number;
  cooldownMs: number;
}

/** Defaults: 1 s doubling to 60 s; 5 crashes in 60 s → 60 s cooldown. */
export const DEFAULT_CRASH_BACKOFF: CrashBackoffOptions = {
  baseMs: 1_000,
  maxMs: 60_000,
  windowMs: 60_000,
  cooldownAfter: 5,
  cooldownMs: 60_000,
};

/** Crash history and the delays it implies. */
export class CrashBackoff {
  private readonly streak = new Map<string, number>();
  private readonly due = new Map<string, number>();
  private readonly crashes = new Map<string, number[]>();

  constructor(private readonly options: CrashBackoffOptions = DEFAULT_CRASH_BACKOFF) {}

  /**
   * Records how an instance's task ended. Returns true when this crash puts the request in
   * cooldown.
   */
  record(requestId: string, instanceNo: number, crashed: boolean, now: number): boolean {
    const key = instanceKey(requestId, instanceNo);
    if (!crashed) {
      this.streak.delete(key);
      this.due.delete(key);
      return false;
    }
    const n = (this.streak.get(key) ?? 0) + 1;
    this.streak.set(key, n);
    this.due.set(key, now + Math.min(this.options.maxMs, this.options.baseMs * 2 ** (n - 1)));
    const recent = (this.crashes.get(requestId) ?? []).filter(
      (t) => t > now - this.options.windowMs,
    );
    recent.push(now);
    this.crashes.set(requestId, recent);
    return recent.length === this.options.cooldownAfter;
  }

  /** A running task proves the instance healthy again. */
  recovered(requestId: string, instanceNo: number): void {
    this.streak.delete(instanceKey(requestId, instanceNo));
  }

  /** When the cooldown of a request that entered it at `since` ends. */
  cooldownEnds(since: number): number {
    return since + this.options.cooldownMs;
  }

  /** `requestId/instanceNo` → not before (for the plan). */
  get notBefore(): ReadonlyMap<string, number> {
    return this.due;
  }
}
