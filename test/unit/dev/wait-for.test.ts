import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchJson, waitFor } from '../../../src/dev/wait-for.js';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A loopback server answering every request with `status` and `body`. */
async function serve(status: number, body: string): Promise<string> {
  const server = http.createServer((_req, res) => res.writeHead(status).end(body));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

const quick = { timeoutMs: 200, intervalMs: 20 };

describe('fetchJson', () => {
  it('returns the parsed body of a 2xx JSON answer', async () => {
    const url = await serve(200, '{"role":"LEADER"}');
    expect(await fetchJson(url)).toEqual({ role: 'LEADER' });
  });

  it('answers undefined for an error status instead of returning the error body', async () => {
    const url = await serve(503, '{"code":"UNAVAILABLE"}');
    expect(await fetchJson(url)).toBeUndefined();
  });
});

describe('waitFor reports why it waited', () => {
  it('the status and a body excerpt of the last failed fetch', async () => {
    const url = await serve(503, `{"code":"UNAVAILABLE","message":"${'x'.repeat(500)}"}`);
    const wait = waitFor('a leader', () => fetchJson(`${url}/api/state`), quick);
    await expect(wait).rejects.toThrow(
      new RegExp(`waiting for a leader \\(\\d+ attempts; last attempt: GET ${url}/api/state → 503`),
    );
    const message = await wait.then(
      () => '',
      (err: Error) => err.message,
    );
    expect(message).toContain('{"code":"UNAVAILABLE"');
    expect(message.length).toBeLessThan(500); // an excerpt, not the whole body
  });

  it('the network error of a server that does not answer', async () => {
    const port = await closedPort();
    await expect(
      waitFor('the agent', () => fetchJson(`http://127.0.0.1:${port}/health`), quick),
    ).rejects.toThrow(
      /GET http:\/\/127\.0\.0\.1:\d+\/health failed: fetch failed \(ECONNREFUSED\)/,
    );
  });

  it('a body that is not JSON', async () => {
    const url = await serve(200, '<html>proxy error</html>');
    await expect(waitFor('JSON', () => fetchJson(url), quick)).rejects.toThrow(
      /→ 200 but not JSON: <html>proxy error<\/html>/,
    );
  });

  it('that everything answered and the condition did not hold', async () => {
    const url = await serve(200, '{"role":"FOLLOWER"}');
    const probe = async () => (await fetchJson<{ role: string }>(url))?.role === 'LEADER';
    await expect(waitFor('LEADER', probe, quick)).rejects.toThrow(
      /last attempt: answered, but the condition did not hold\)/,
    );
  });

  it('what the probe threw, and an earlier failure when the last attempt had none', async () => {
    let calls = 0;
    const probe = () => {
      if (++calls === 1) throw new Error('boom');
      return false;
    };
    await expect(waitFor('x', probe, quick)).rejects.toThrow(
      /last attempt: answered, but the condition did not hold; last failure: threw boom\)/,
    );
  });

  it('keeps the failures of concurrent waits apart', async () => {
    const a = await serve(500, 'from-a');
    const b = await serve(404, 'from-b');
    const [ea, eb] = await Promise.all([
      waitFor('a', () => fetchJson(a), quick).catch((e: Error) => e.message),
      waitFor('b', () => fetchJson(b), quick).catch((e: Error) => e.message),
    ]);
    expect(ea).toContain('500 from-a');
    expect(ea).not.toContain('from-b');
    expect(eb).toContain('404 from-b');
    expect(eb).not.toContain('from-a');
  });

  it('returns the first value the probe gives', async () => {
    let calls = 0;
    expect(await waitFor('three calls', () => (++calls >= 3 ? calls : undefined), quick)).toBe(3);
  });
});
