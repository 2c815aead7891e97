import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findFreePort } from '../../src/dev/index.js';
import { makeTempDir, runThales, startCluster, useZooKeeper } from '../harness/index.js';
import { startSimAgents } from '../harness/sim-agent.js';
import { shortAgentGraces, waitRunning } from '../harness/tasks-cluster.js';

const zk = useZooKeeper();
shortAgentGraces();

describe('thales client CLI (real replicas, simulated agents)', () => {
  it('request create|list|scale, deploy, tasks and agents talk to any replica', async () => {
    const cluster = await startCluster(zk());
    startSimAgents(cluster, ['sim-a']);
    // The first URL is dead: the CLI moves on to the next replica.
    const api = ['http://127.0.0.1:1', ...cluster.replicas.map((r) => r.url)].join(',');
    const create = await runThales([
      'request',
      'create',
      '--id',
      'cli',
      '--instances',
      '2',
      '--api',
      api,
    ]);
    expect(create.code).toBe(0);
    expect(JSON.parse(create.stdout).request.id).toBe('cli');
    const deploy = await runThales(
      [
        'deploy',
        '--request',
        'cli',
        '--id',
        'v1',
        '--command',
        'sleep',
        '--arg',
        '100',
        '--env',
        'A=b',
        '--cpus',
        '0.1',
        '--memory-mb',
        '16',
        '--ports',
        '1',
      ],
      { env: { THALES_API: api } },
    );
    expect(deploy.code).toBe(0);
    // The leader may promote the deploy before the answer is read back: either way it is there.
    const answered = JSON.parse(deploy.stdout) as Record<string, { id: string; env: unknown }>;
    const accepted = answered.pendingDeploy ?? answered.activeDeploy;
    expect(accepted?.id).toBe('v1');
    expect(accepted?.env).toEqual({ A: 'b' });
    await waitRunning(cluster, 'cli', 2);
    const scale = await runThales(['request', 'scale', 'cli', '3', '--api', api]);
    expect(scale.code).toBe(0);
    const tasks = await waitRunning(cluster, 'cli', 3);
    const listed = await runThales(['tasks', '--request', 'cli', '--api', api]);
    expect(listed.code).toBe(0);
    for (const t of tasks) expect(listed.stdout).toContain(t.id);
    const list = await runThales(['request', 'list', '--api', api]);
    expect(list.stdout).toMatch(/cli\s+SERVICE\s+ACTIVE\s+3\s+v1/);
    const agents = await runThales(['agents', '--api', api]);
    expect(agents.stdout).toMatch(/sim-a\s+ACTIVE/);
  });

  it('bad input exits non-zero naming the field', async () => {
    const cluster = await startCluster(zk(), { replicas: 1 });
    const res = await runThales([
      'request',
      'create',
      '--id',
      'x',
      '--type',
      'CRON',
      '--api',
      cluster.replicas[0]!.url,
    ]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('requestType');
  });
});

describe('thales client CLI: discovery, errors and exit codes', () => {
  it('every command finds the dev cluster from its file, and says which URL failed and why', async () => {
    const cluster = await startCluster(zk(), { replicas: 1 });
    const devDir = makeTempDir();
    // No --api, no THALES_API: the file `thales dev` writes (a dead replica listed first).
    writeFileSync(
      path.join(devDir, 'api-urls'),
      `http://127.0.0.1:1\n${cluster.replicas[0]!.url}\n`,
    );
    const env = { THALES_DEV_DIR: devDir, THALES_API: '' };
    for (const args of [['state'], ['tasks'], ['agents'], ['request', 'list']]) {
      const res = await runThales([...args, '--output', 'json'], { env });
      expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(0);
      expect(() => JSON.parse(res.stdout) as unknown).not.toThrow();
    }

    const closed = await findFreePort();
    const unreachable = await runThales([
      'state',
      '--api',
      `http://127.0.0.1:1,http://127.0.0.1:${closed}`,
    ]);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain('http://127.0.0.1:1/api/state: bad port');
    expect(unreachable.stderr).toContain(`http://127.0.0.1:${closed}/api/state: ECONNREFUSED`);
    expect(unreachable.stderr).toContain('from --api');

    const api = cluster.replicas[0]!.url;
    const refused = await runThales(['request', 'scale', 'ghost', '2', '--api', api]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`PUT ${api}/api/requests/request/ghost/scale answered 404`);

    const usage = await runThales(['request', 'scale', 'x', 'many', '--api', api]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('instances');
    const help = await runThales(['deploy', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--memory-mb');
  });
});
