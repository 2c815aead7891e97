/**
 * One HTTP call on a fresh connection, classified the way a client that fails over between
 * replicas must classify it: refused (nothing listening — the request never reached a
 * server, safe to send elsewhere), reset before any byte of an answer (the server closed the
 * connection, e.g. its listener closed with the connection still in its accept queue: an
 * idempotent request may be sent again, as HTTP clients and proxies do), answered (status and
 * body), or failed otherwise (a timeout, a reset mid-answer).
 */
import http from 'node:http';

/** What became of one call. */
export type ProbeResult =
  | { kind: 'answered'; status: number; body: string; ms: number }
  | { kind: 'refused'; error: string; ms: number }
  | { kind: 'reset'; error: string; ms: number }
  | { kind: 'failed'; error: string; ms: number };

/** Sends one request to `url` (no keep-alive: each call sees the server as it is now). */
export function probe(
  url: string,
  options: { method?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<ProbeResult> {
  const started = performance.now();
  const ms = (): number => performance.now() - started;
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve) => {
    const req = http.request(
      url,
      {
        method: options.method ?? 'GET',
        agent: false,
        timeout: options.timeoutMs ?? 10_000,
        headers: payload
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
          : {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () =>
          resolve({ kind: 'answered', status: res.statusCode ?? 0, body, ms: ms() }),
        );
        res.on('error', (err) => resolve({ kind: 'failed', error: err.message, ms: ms() }));
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`no answer in ${options.timeoutMs ?? 10_000} ms`)),
    );
    // Errors of the request itself come before any response: the `response` handler above
    // catches those after it.
    req.on('error', (err: NodeJS.ErrnoException) => {
      const kind =
        err.code === 'ECONNREFUSED'
          ? 'refused'
          : err.code === 'ECONNRESET' || err.code === 'EPIPE'
            ? 'reset'
            : 'failed';
      resolve({ kind, error: `${err.code ?? ''} ${err.message}`.trim(), ms: ms() });
    });
    req.end(payload);
  });
}

/** The JSON of an answered call, or undefined. */
export function jsonOf<T>(result: ProbeResult): T | undefined {
  if (result.kind !== 'answered') return undefined;
  try {
    return JSON.parse(result.body) as T;
  } catch {
    return undefined;
  }
}
