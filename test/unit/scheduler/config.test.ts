import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadSchedulerConfig } from '../../../src/scheduler/index.js';
import { makeTempDir } from '../../harness/index.js';

const load = (argv: string[], env: NodeJS.ProcessEnv = {}) => loadSchedulerConfig(argv, env);

function configFile(name: string, text: string): string {
  const file = path.join(makeTempDir(), name);
  writeFileSync(file, text);
  return file;
}

describe('loadSchedulerConfig', () => {
  it('has working defaults', () => {
    const c = load(['--replica-id', 'r1']);
    expect(c).toMatchObject({
      replicaId: 'r1',
      zookeeper: { connect: '127.0.0.1:2181', chroot: '/thales', sessionTimeoutMs: 10_000 },
      http: { host: '127.0.0.1', port: 7070 },
      grpc: { host: '127.0.0.1', port: 7071 },
      debugApi: false,
      logLevel: 'info',
    });
  });

  it('sizes the matcher pool from the CPU count unless told otherwise', () => {
    expect(load([]).matcherThreads).toBeGreaterThanOrEqual(1);
    expect(load(['--matcher-threads', '3']).matcherThreads).toBe(3);
    expect(load([], { THALES_MATCHER_THREADS: '5' }).matcherThreads).toBe(5);
    expect(() => load(['--matcher-threads', '0'])).toThrow(/'matcherThreads'/);
    expect(() => load([], { THALES_MATCHER_THREADS: 'many' })).toThrow(
      /THALES_MATCHER_THREADS: 'many' is not a number/,
    );
  });

  it('derives a replica id from the host name and HTTP port when none is given', () => {
    expect(load(['--http-port', '8123']).replicaId).toMatch(/-8123$/);
  });

  it('applies file, then environment, then flags (last wins)', () => {
    const file = configFile(
      'c.yaml',
      'replicaId: from-file\nzookeeper:\n  connect: zk1:2181,zk2:2181\n  sessionTimeoutMs: 3000\nhttp:\n  port: 9000\n',
    );
    const c = load(['--config', file, '--http-port', '9100', '--debug-api'], {
      THALES_ZK_SESSION_TIMEOUT_MS: '4000',
      THALES_REPLICA_ID: 'from-env',
    });
    expect(c.replicaId).toBe('from-env');
    expect(c.zookeeper).toEqual({
      connect: 'zk1:2181,zk2:2181',
      chroot: '/thales',
      sessionTimeoutMs: 4000,
    });
    expect(c.http.port).toBe(9100);
    expect(c.debugApi).toBe(true);
  });

  it('--host sets both listen hosts', () => {
    const c = load(['--replica-id', 'r', '--host', '0.0.0.0']);
    expect(c.http.host).toBe('0.0.0.0');
    expect(c.grpc.host).toBe('0.0.0.0');
  });

  it.each<[string, string[], NodeJS.ProcessEnv, RegExp]>([
    ['unknown flag', ['--zk-connect', 'a:1'], {}, /flags: .*--zk-connect/],
    ['positional', ['extra'], {}, /flags:/],
    ['connect without port', ['--zk', 'zk1'], {}, /'zookeeper\.connect'/],
    ['connect with chroot', ['--zk', 'zk1:2181/thales'], {}, /'zookeeper\.connect'.*chroot/],
    ['connect port too big', ['--zk', 'zk1:70000'], {}, /'zookeeper\.connect'/],
    ['relative chroot', ['--chroot', 'thales'], {}, /'zookeeper\.chroot'/],
    ['trailing slash chroot', ['--chroot', '/thales/'], {}, /'zookeeper\.chroot'/],
    [
      'session timeout too short',
      ['--session-timeout-ms', '100'],
      {},
      /'zookeeper\.sessionTimeoutMs'/,
    ],
    [
      'session timeout too long',
      ['--session-timeout-ms', '600000'],
      {},
      /'zookeeper\.sessionTimeoutMs'/,
    ],
    ['session timeout not an integer', ['--session-timeout-ms', '1500.5'], {}, /sessionTimeoutMs/],
    ['non-numeric port', ['--http-port', 'http'], {}, /--http-port.*'http' is not a number/],
    ['empty numeric flag', ['--grpc-port', ' '], {}, /--grpc-port/],
    ['port out of range', ['--grpc-port', '65536'], {}, /'grpc\.port'/],
    ['bad replica id', ['--replica-id', 'a b'], {}, /'replicaId'/],
    ['bad log level', ['--log-level', 'loud'], {}, /'logLevel'/],
    ['non-numeric env', [], { THALES_HTTP_PORT: 'x' }, /environment THALES_HTTP_PORT/],
  ])('refuses %s, naming it', (_what, argv, env, message) => {
    expect(() => load(['--replica-id', 'r', ...argv], env)).toThrow(ConfigError);
    expect(() => load(['--replica-id', 'r', ...argv], env)).toThrow(message);
  });

  it('refuses unknown keys in a config file, with their full path', () => {
    const nested = configFile('n.yaml', 'zookeeper:\n  connect: a:1\n  timeout: 5\n');
    expect(() => load(['--config', nested])).toThrow(
      /unknown configuration key 'zookeeper\.timeout'/,
    );
    const top = configFile('t.json', '{"replicaId":"r","colour":"blue"}');
    expect(() => load(['--config', top])).toThrow(/unknown configuration key 'colour'/);
  });

  it('refuses a config file that is missing, malformed, or not a mapping', () => {
    expect(() => load(['--config', '/nonexistent.yaml'])).toThrow(
      /config file \/nonexistent\.yaml/,
    );
    const bad = configFile('bad.yaml', 'zookeeper: [unclosed\n');
    expect(() => load(['--config', bad])).toThrow(/not valid YAML\/JSON/);
    const list = configFile('list.yaml', '- a\n- b\n');
    expect(() => load(['--config', list])).toThrow(/must hold a mapping/);
  });

  it('refuses wrongly typed values from a file', () => {
    const file = configFile('types.yaml', 'http:\n  port: "80"\n');
    expect(() => load(['--config', file])).toThrow(/'http\.port'/);
  });
});
