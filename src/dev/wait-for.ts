import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What went wrong during one attempt of a {@link waitFor} probe. {@link fetchJson} keeps
 * answering `undefined` on failure (its callers treat that as "not yet"), but records why in
 * the attempt it runs in, so a wait that times out can say what it last saw.
 */
interface ProbeAttempt {
  failures: string[];
}

const currentAttempt = new AsyncLocalStorage<ProbeAttempt>();

/** Longest excerpt of a response body quoted in a failure. */
const BODY_EXCERPT_CHARS = 200;

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Polls `probe` until it returns a value other than undefined/false, or throws on timeout. The
 * timeout's message says how many attempts ran and why the last one did not succeed: what it
 * threw, the failed fetches ({@link fetchJson}: status and body excerpt, or network error), or
 * that everything answered and the condition simply did not hold.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 30_000, intervalMs = 50 }: WaitForOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  let lastAttempt = '';
  let lastFailure: string | undefined;
  for (;;) {
    const attempt: ProbeAttempt = { failures: [] };
    attempts++;
    try {
      const value = await currentAttempt.run(attempt, probe);
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      attempt.failures.push(`threw ${describeError(err)}`);
    }
    lastAttempt = attempt.failures.join('; ') || 'answered, but the condition did not hold';
    if (attempt.failures.length > 0) lastFailure = lastAttempt;
    if (Date.now() > deadline) {
      const earlier =
        lastFailure && lastFailure !== lastAttempt ? `; last failure: ${lastFailure}` : '';
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what} ` +
          `(${attempts} attempts; last attempt: ${lastAttempt}${earlier})`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * GETs a JSON document: its parsed body if the server answered 2xx with JSON, else undefined.
 * Why it failed (network error, timeout, status with a body excerpt, a body that is not JSON)
 * is recorded for the enclosing {@link waitFor}, whose timeout message reports it.
 */
export async function fetchJson<T>(url: string, timeoutMs = 2_000): Promise<T | undefined> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    text = await res.text();
  } catch (err) {
    return failed(`GET ${url} failed: ${describeError(err)}`);
  }
  if (!res.ok) return failed(`GET ${url} → ${res.status} ${excerpt(text)}`);
  try {
    return JSON.parse(text) as T;
  } catch {
    return failed(`GET ${url} → ${res.status} but not JSON: ${excerpt(text)}`);
  }
}

function failed(why: string): undefined {
  currentAttempt.getStore()?.failures.push(why);
  return undefined;
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (!flat) return '(empty body)';
  return flat.length > BODY_EXCERPT_CHARS ? `${flat.slice(0, BODY_EXCERPT_CHARS)}…` : flat;
}

/** An error with its cause: undici reports `fetch failed` and hides ECONNREFUSED in `cause`. */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: string; message?: string } | undefined;
  const why = cause?.code ?? cause?.message;
  return why ? `${err.message} (${why})` : err.message;
}
