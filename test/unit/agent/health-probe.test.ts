import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProbe, type ProbeTarget } from '../../../src/agent/index.js';

/** Real servers on loopback, one per protocol; each answers `/code/<n>` with status n. */
const servers: { close(): void }[] = [];
let dir = '';
let tls: { key: Buffer; cert: Buffer };

function answer(path: string | undefined): { status: number; body: string } {
  const m = /^\/code\/(\d+)/.exec(path ?? '');
  if (path?.startsWith('/hang')) return { status: -1, body: '' };
  return { status: m ? Number(m[1]) : 200, body: `you asked ${path}` };
}

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

function http1Handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const a = answer(req.url);
  if (a.status < 0) return; // never answers
  res.statusCode = a.status;
  res.end(`${req.method} ${a.body}`);
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'thales-probe-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=someone.else',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  tls = {
    key: readFileSync(path.join(dir, 'key.pem')),
    cert: readFileSync(path.join(dir, 'cert.pem')),
  };
});
afterAll(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

const target = (
  kind: string,
  port: number,
  uri = '/',
  extra: Partial<ProbeTarget> = {},
): ProbeTarget => ({
  kind,
  host: '127.0.0.1',
  port,
  uri,
  method: 'GET',
  timeoutMs: 1000,
  ...extra,
});

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

describe('health probes (real sockets on loopback)', () => {
  it('HTTP: 2xx passes, other codes fail with the code and body, method is used', async () => {
    const port = await listen(http.createServer(http1Handler));
    expect(await runProbe(target('HTTP', port, '/health'))).toMatchObject({
      ok: true,
      statusCode: 200,
    });
    const failed = await runProbe(target('HTTP', port, '/code/503'));
    expect(failed).toMatchObject({ ok: false, statusCode: 503 });
    expect(failed.responseBody).toContain('you asked /code/503');
    const post = await runProbe(target('HTTP', port, '/code/404', { method: 'POST' }));
    expect(post.responseBody).toMatch(/^POST /);
    expect((await runProbe(target('HTTP', port, '/code/302'))).ok).toBe(false);
  });

  it('HTTPS with a certificate for another name still checks the task', async () => {
    const port = await listen(https.createServer(tls, http1Handler));
    expect(await runProbe(target('HTTPS', port))).toMatchObject({ ok: true, statusCode: 200 });
    expect(await runProbe(target('HTTPS', port, '/code/500'))).toMatchObject({
      ok: false,
      statusCode: 500,
    });
  });

  it('HTTP2 (cleartext, prior knowledge) and HTTPS2 (TLS, ALPN h2)', async () => {
    const h2 = (server: http2.Http2Server | http2.Http2SecureServer) =>
      server.on('stream', (stream, headers) => {
        const a = answer(headers[':path'] as string);
        stream.respond({ ':status': a.status });
        stream.end(a.body);
      });
    const clear = await listen(h2(http2.createServer()));
    expect(await runProbe(target('HTTP2', clear, '/x'))).toMatchObject({
      ok: true,
      statusCode: 200,
    });
    expect(await runProbe(target('HTTP2', clear, '/code/502'))).toMatchObject({
      ok: false,
      statusCode: 502,
    });
    const secure = await listen(h2(http2.createSecureServer(tls)));
    expect(await runProbe(target('HTTPS2', secure))).toMatchObject({ ok: true, statusCode: 200 });
  });

  it('TCP: a connection passes; a closed port is refused', async () => {
    const port = await listen(net.createServer((s) => s.end()));
    expect(await runProbe(target('TCP', port))).toMatchObject({ ok: true });
    const closed = await closedPort();
    const r = await runProbe(target('TCP', closed));
    expect(r.ok).toBe(false);
    expect(r.errorMessage).toContain('connection refused');
    expect((await runProbe(target('HTTP', closed))).errorMessage).toContain('connection refused');
  });

  it('a server that never answers fails after responseTimeout', async () => {
    const port = await listen(http.createServer(http1Handler));
    const r = await runProbe(target('HTTP', port, '/hang', { timeoutMs: 300 }));
    expect(r.ok).toBe(false);
    expect(r.errorMessage).toContain('responseTimeoutSeconds');
    expect(r.durationMs).toBeGreaterThanOrEqual(250);
    const silent = await listen(net.createServer(() => undefined));
    const h2 = await runProbe(target('HTTP2', silent, '/', { timeoutMs: 300 }));
    expect(h2.errorMessage).toContain('responseTimeoutSeconds');
  });
});
