/**
 * The real `thales scheduler` refuses a bad configuration: it exits non-zero within seconds,
 * naming the problem on stderr, instead of running half-configured.
 */
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { findFreePorts } from '../../src/dev/index.js';
import { makeTempDir, runThales, type CliResult } from '../harness/index.js';

/** Flags that would otherwise be valid, on free ports, against a ZooKeeper nobody runs. */
async function baseFlags(): Promise<string[]> {
  const [http, grpc, zk] = await findFreePorts(3);
  return [
    '--replica-id',
    'bad-config',
    '--zk',
    `127.0.0.1:${zk}`,
    '--http-port',
    String(http),
    '--grpc-port',
    String(grpc),
  ];
}

function expectRefused(result: CliResult, mention: RegExp): void {
  expect(result.code, `stderr: ${result.stderr}`).not.toBeNull(); // it exited by itself
  expect(result.code).not.toBe(0);
  expect(result.stderr).toMatch(mention);
}

async function occupyPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('thales scheduler with a bad configuration', () => {
  it('an unknown flag', async () => {
    const result = await runThales([
      'scheduler',
      ...(await baseFlags()),
      '--sesion-timeout-ms',
      '5',
    ]);
    expectRefused(result, /invalid configuration.*--sesion-timeout-ms/);
  });

  it('an unknown key in the config file, named with its section', async () => {
    const dir = makeTempDir();
    const file = path.join(dir, 'scheduler.yaml');
    writeFileSync(file, 'zookeeper:\n  sessionTimeoutMs: 5000\n  retries: 3\n');
    const result = await runThales(['scheduler', ...(await baseFlags()), '--config', file]);
    expectRefused(result, /unknown configuration key 'zookeeper\.retries'/);
  });

  it('an unknown top-level key in a JSON config file', async () => {
    const dir = makeTempDir();
    const file = path.join(dir, 'scheduler.json');
    writeFileSync(file, JSON.stringify({ replicaId: 'a', leaderLease: 3 }));
    const result = await runThales(['scheduler', ...(await baseFlags()), '--config', file]);
    expectRefused(result, /unknown configuration key 'leaderLease'/);
  });

  it('a missing config file', async () => {
    const result = await runThales(['scheduler', '--config', '/nonexistent/thales.yaml']);
    expectRefused(result, /\/nonexistent\/thales\.yaml/);
  });

  it.each([
    ['no port', 'zk-host'],
    ['a chroot in the connect string', '127.0.0.1:2181/thales'],
    ['a port out of range', '127.0.0.1:99999'],
    ['an empty member', '127.0.0.1:2181,'],
  ])('a bad ZooKeeper connect string: %s', async (_what, connect) => {
    const result = await runThales(['scheduler', ...(await baseFlags()), '--zk', connect]);
    expectRefused(result, /zookeeper\.connect/);
  });

  it('a session timeout that is not a number', async () => {
    const result = await runThales([
      'scheduler',
      ...(await baseFlags()),
      '--session-timeout-ms',
      'ten',
    ]);
    expectRefused(result, /session-timeout-ms.*'ten' is not a number/);
  });

  it('the HTTP port in use', async () => {
    const port = await occupyPort();
    const result = await runThales([
      'scheduler',
      ...(await baseFlags()),
      '--http-port',
      String(port),
    ]);
    expectRefused(result, new RegExp(`http\\.port ${port} is already in use`));
  });

  it('the gRPC port in use', async () => {
    const port = await occupyPort();
    const result = await runThales([
      'scheduler',
      ...(await baseFlags()),
      '--grpc-port',
      String(port),
    ]);
    expectRefused(result, new RegExp(`grpc\\.port ${port} is already in use`));
  });
});
