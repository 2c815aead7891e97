import { describe, expect, it } from 'vitest';
import { devAgentPortRanges } from '../../../src/dev/dev-agents.js';
import { type ProcessInfo, planDevSweep } from '../../../src/dev/dev-processes.js';

const DIR = '/home/dev/thales/.thales/dev';

function proc(pid: number, ppid: number, extra: Partial<ProcessInfo> = {}): ProcessInfo {
  return { pid, ppid, pgid: pid, startTime: pid, command: `cmd-${pid}`, tagged: false, ...extra };
}

describe('planDevSweep (pure)', () => {
  // terminal shell 10 → npm 11 (group 11) → sh 12 (group 11) → thales dev 13 (group 11)
  const ancestry = [
    proc(1, 0),
    proc(10, 1),
    proc(11, 10),
    proc(12, 11, { pgid: 11 }),
    proc(13, 12, { pgid: 11 }),
  ];

  it('takes the tagged processes and the groups they lead', () => {
    const replica = proc(20, 13, { tagged: true });
    const executor = proc(30, 1, { tagged: true }); // re-parented: its agent is gone
    const taskChild = proc(32, 31, { pgid: 31, tagged: true });
    const plan = planDevSweep([...ancestry, replica, executor, taskChild, proc(40, 10)], {
      dir: DIR,
      selfPid: 13,
      nginxPids: [],
    });
    expect(plan.members.map((p) => p.pid)).toEqual([20, 30, 32]);
    // 32 is in its task's group 31 but does not lead it; 31 itself is gone.
    expect(plan.groups).toEqual([20, 30]);
  });

  it('never the caller, its ancestors or their groups, even when tagged', () => {
    const tagged = ancestry.map((p) => ({ ...p, tagged: true }));
    const sibling = proc(14, 12, { pgid: 11, tagged: true }); // in npm's group, led by npm
    const plan = planDevSweep([...tagged, sibling], { dir: DIR, selfPid: 13, nginxPids: [] });
    // init (1) is an ancestor too; 14 goes, but not npm's group it is in.
    expect(plan.members.map((p) => p.pid)).toEqual([14]);
    expect(plan.groups).toEqual([]);
  });

  it('an nginx master from the pid file only if its title names the run dir', () => {
    const master = proc(50, 1, {
      command: `nginx: master process /usr/sbin/nginx -p ${DIR}/lb-agent/nginx -c …`,
    });
    const reused = proc(51, 1, { command: 'nginx: master process /usr/sbin/nginx -p /srv/other' });
    const sibling = proc(52, 1, { command: `nginx: master process -p ${DIR}-other/lb-agent` });
    const plan = planDevSweep([...ancestry, master, reused, sibling], {
      dir: DIR,
      selfPid: 13,
      nginxPids: [50, 51, 52],
    });
    expect(plan.members.map((p) => p.pid)).toEqual([50]);
    expect(plan.groups).toEqual([50]);
  });
});

describe('devAgentPortRanges', () => {
  it('splits a range evenly between the agents', async () => {
    expect(await devAgentPortRanges('31000-31199', 2)).toEqual(['31000-31099', '31100-31199']);
    expect(await devAgentPortRanges('40000-40004', 2)).toEqual(['40000-40001', '40002-40003']);
  });

  it('auto: one consecutive block of free ports below the ephemeral range', async () => {
    const [a, b] = (await devAgentPortRanges('auto', 2)).map((r) => r.split('-').map(Number));
    expect(a?.[0]).toBeGreaterThanOrEqual(10_000);
    expect(b?.[1]).toBeLessThan(20_000);
    expect(b?.[0]).toBe((a?.[1] ?? 0) + 1);
    expect((b?.[1] ?? 0) - (a?.[0] ?? 0) + 1).toBe(20);
  });

  it.each(['', 'soon', '31000', '31100-31000', '0-10', '65000-70000', '5-5'])(
    'refuses %j naming THALES_DEV_TASK_PORTS',
    async (spec) => {
      await expect(devAgentPortRanges(spec, 2)).rejects.toThrow(/^THALES_DEV_TASK_PORTS: /);
    },
  );
});
