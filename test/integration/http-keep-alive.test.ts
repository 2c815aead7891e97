/**
 * The HTTP API's keep-alive: the server keeps an idle socket 65 s but tells clients 5 s, so a
 * client (undici drops an idle socket at the hint minus 2 s) never reuses a socket the server
 * is closing. A real server on a free port, no ZooKeeper (the routes read a fixed state).
 */
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startHttpServer } from '../../src/api/index.js';
import { closeHttpServer } from '../../src/runtime/index.js';

describe('HTTP API keep-alive (real server)', () => {
  it('advertises timeout=5 on answers and errors while the server keeps idle sockets 65 s', async () => {
    const server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      backend: {
        state: () => ({ role: 'LEADER', view: 'FRESH', leader: null }) as never,
        stepDown: () => Promise.resolve({ steppedDown: false }),
      },
      registry: new Registry(),
      logger: pino({ level: 'silent' }),
    });
    onTestFinished(() => closeHttpServer(server, 500));
    const { port } = server.address() as AddressInfo;
    expect(server.keepAliveTimeout).toBe(65_000);
    for (const path of ['/health', '/no/such/route']) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      await res.text();
      // One hint only: Node's own (the server's 65 s) would show here as a second value.
      expect(res.headers.get('keep-alive'), path).toBe('timeout=5');
      expect(res.headers.get('connection'), path).toBe('keep-alive');
    }
  });
});
