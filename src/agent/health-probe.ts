import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import type { CheckOutcome } from './health-policy.js';

/** One check to run: where, how, and how long to wait for an answer. */
export interface ProbeTarget {
  /** HTTP, HTTPS, HTTP2, HTTPS2 or TCP. */
  kind: string;
  host: string;
  port: number;
  uri: string;
  method: string;
  timeoutMs: number;
}

/** Bytes of a response body read (and kept, for failed checks). */
const BODY_BYTES = 512;

/**
 * Runs one check and never throws: a 2xx answer (or, for TCP, a connection) passes; any other
 * answer fails with its status code; no answer fails with the error (refused, timed out…).
 * TLS certificates are not verified: the check asks whether this task answers on its port,
 * and the task's certificate names the service, not the agent's host.
 */
export async function runProbe(
  target: ProbeTarget,
  now: () => number = Date.now,
): Promise<CheckOutcome> {
  const start = now();
  const done = (o: Omit<CheckOutcome, 'durationMs' | 'at'>): CheckOutcome => {
    const at = now();
    return { ...o, durationMs: at - start, at };
  };
  try {
    switch (target.kind) {
      case 'TCP':
        await connectTcp(target);
        return done({ ok: true });
      case 'HTTP2':
      case 'HTTPS2': {
        const { statusCode, body } = await requestHttp2(target);
        return done(toAnswer(statusCode, body));
      }
      default: {
        const { statusCode, body } = await requestHttp1(target);
        return done(toAnswer(statusCode, body));
      }
    }
  } catch (err) {
    return done({ ok: false, errorMessage: describeError(err, target) });
  }
}

function toAnswer(statusCode: number, body: string): Omit<CheckOutcome, 'durationMs' | 'at'> {
  const ok = statusCode >= 200 && statusCode < 300;
  return ok ? { ok, statusCode } : { ok, statusCode, ...(body ? { responseBody: body } : {}) };
}

function describeError(err: unknown, target: ProbeTarget): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ETIMEDOUT' || e?.name === 'TimeoutError') {
    return `no answer within responseTimeoutSeconds (${target.timeoutMs} ms)`;
  }
  if (e?.code === 'ECONNREFUSED') return `connection refused on ${target.host}:${target.port}`;
  return e?.message ? `${e.code ? `${e.code}: ` : ''}${e.message}` : String(err);
}

function timeoutError(): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error('timed out');
  err.code = 'ETIMEDOUT';
  return err;
}

function connectTcp(target: ProbeTarget): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port });
    socket.setTimeout(target.timeoutMs, () => {
      socket.destroy();
      reject(timeoutError());
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

function requestHttp1(target: ProbeTarget): Promise<{ statusCode: number; body: string }> {
  const secure = target.kind === 'HTTPS';
  const client = secure ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      {
        host: target.host,
        port: target.port,
        path: target.uri,
        method: target.method,
        agent: false,
        headers: { 'user-agent': 'thales-healthcheck', connection: 'close' },
        ...(secure ? { rejectUnauthorized: false } : {}),
      },
      (res) => readBody(res, (body) => resolve({ statusCode: res.statusCode ?? 0, body })),
    );
    // One bound for the whole exchange, connect included (Singularity's responseTimeout).
    const timer = setTimeout(() => req.destroy(timeoutError()), target.timeoutMs);
    req.once('close', () => clearTimeout(timer));
    req.once('error', reject);
    req.end();
  });
}

function requestHttp2(target: ProbeTarget): Promise<{ statusCode: number; body: string }> {
  const scheme = target.kind === 'HTTPS2' ? 'https' : 'http';
  return new Promise((resolve, reject) => {
    const session = http2.connect(`${scheme}://${target.host}:${target.port}`, {
      rejectUnauthorized: false,
    });
    const fail = (err: unknown): void => {
      session.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(timeoutError()), target.timeoutMs);
    session.once('close', () => clearTimeout(timer));
    session.once('error', fail);
    const stream = session.request({ ':method': target.method, ':path': target.uri });
    stream.once('error', fail);
    stream.once('response', (headers) => {
      const statusCode = Number(headers[':status'] ?? 0);
      readBody(stream, (body) => {
        session.close();
        resolve({ statusCode, body });
      });
    });
    stream.end();
  });
}

/** Reads up to {@link BODY_BYTES} of a body, then stops reading. */
function readBody(
  res: NodeJS.ReadableStream & { destroy(): void },
  done: (body: string) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    done(Buffer.concat(chunks).subarray(0, BODY_BYTES).toString('utf8'));
  };
  res.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= BODY_BYTES) {
      finish();
      res.destroy();
    }
  });
  res.once('end', finish);
  res.once('close', finish);
  res.once('error', finish);
}
