/**
 * HTTP calls of the workload, each turned into an {@link OpResult}: 2xx is `ok`, 4xx `fail`
 * (the API refused it, nothing was written), and 5xx, timeouts and broken connections `info`
 * (the write may have landed). A refused connection never reached a server: `fail`.
 */
import http from 'node:http';
import type { OpResult } from './history.js';

/** Per-call timeout: past it the outcome is unknown, not failed. */
export const CALL_TIMEOUT_MS = 5_000;

/** An answer with its parsed JSON body. */
export interface Answer extends OpResult {
  body?: unknown;
}

/** Sends one request and classifies its outcome. */
export async function call(
  url: string,
  method: string,
  body?: unknown,
  timeoutMs = CALL_TIMEOUT_MS,
): Promise<Answer> {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    return { outcome: connectionRefused(err) ? 'fail' : 'info', error: describe(err) };
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    // The status came but the body did not: the server did answer, so the status decides.
    return { outcome: outcomeOf(res.status), status: res.status, error: describe(err) };
  }
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (nginx error pages): keep the text
  }
  const outcome = outcomeOf(res.status);
  return {
    outcome,
    status: res.status,
    body: parsed,
    ...(outcome === 'ok' ? {} : { error: text.slice(0, 300) }),
  };
}

/** The outcome an HTTP status means for a write. */
export function outcomeOf(status: number): OpResult['outcome'] {
  if (status >= 200 && status < 300) return 'ok';
  if (status >= 400 && status < 500) return 'fail';
  return 'info';
}

function connectionRefused(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code === 'ECONNREFUSED';
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string } };
  return [e.name, e.cause?.code, e.message].filter(Boolean).join(': ');
}

/**
 * Like {@link call}, but sends `path` byte for byte: fetch normalizes URLs (`%2e%2e` becomes a
 * `..` segment and is resolved away), so a hostile path would never reach the server as sent.
 */
export function rawCall(
  base: string,
  rawPath: string,
  method: string,
  body?: unknown,
  timeoutMs = CALL_TIMEOUT_MS,
): Promise<Answer> {
  const url = new URL(base);
  const payload =
    body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: rawPath,
        method,
        agent: false,
        timeout: timeoutMs,
        headers: payload === undefined ? {} : { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const outcome = outcomeOf(status);
          resolve({ outcome, status, ...(outcome === 'ok' ? {} : { error: text.slice(0, 300) }) });
        });
        res.on('error', (err) =>
          resolve({ outcome: outcomeOf(res.statusCode ?? 500), error: describe(err) }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => {
      const refused = (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
      resolve({ outcome: refused ? 'fail' : 'info', error: describe(err) });
    });
    req.end(payload);
  });
}
