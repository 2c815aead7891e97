import { describe, expect, it } from 'vitest';
import { runThales, startCluster, useZooKeeper } from '../harness/index.js';
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
