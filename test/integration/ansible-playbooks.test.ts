import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/dev/index.js';
import { AnsibleCluster } from '../harness/ansible-cluster.js';

// deploy/ansible's parts that the upgrade test cannot show on this machine: the systemd
// units (no systemd here) and a failed health gate stopping a rolling play.
const dir = mkdtempSync(path.join(os.tmpdir(), 'thales-playbooks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TIMEOUT = 10 * 60_000; // ansible on a loaded machine: minutes, not seconds

describe('deploy/ansible', () => {
  it(
    'renders the systemd units: agent and lb-agent stop alone, the cleaner runs on a timer',
    async () => {
      const c = await AnsibleCluster.create(path.join(dir, 'units'), {
        zookeeper: 1,
        schedulers: 1,
        agents: 1,
        lbAgents: 1,
      });
      const units = path.join(dir, 'units', 'systemd');
      mkdirSync(units, { recursive: true });
      // --tags units: only the service definitions (nothing is installed, started or checked).
      const run = await c.runPlaybook(
        'site.yml',
        {
          thales_version: '9.9.9',
          thales_service_backend: 'systemd',
          thales_systemd_unit_dir: units,
        },
        () => undefined,
        ['--tags', 'units'],
      );
      expect(run.code, run.tail).toBe(0);
      const unit = (name: string): string => readFileSync(path.join(units, name), 'utf8');
      const install = (host: string): string => path.join(dir, 'units', host, 'opt', 'thales');

      const scheduler = unit('thales-scheduler.service');
      expect(scheduler).toContain(
        `ExecStart=${process.execPath} ${install('sched-1')}/current/bin/thales scheduler --config`,
      );
      expect(scheduler).toContain(`WorkingDirectory=${install('sched-1')}/current`);
      expect(scheduler).toContain('Restart=on-failure');
      expect(scheduler).not.toContain('KillMode');
      // Tasks (detached executors) and nginx outlive a restart of their agent.
      expect(unit('thales-agent.service')).toContain('KillMode=process');
      const lb = unit('thales-lb-agent.service');
      expect(lb).toContain('KillMode=process');
      expect(lb).toMatch(/ExecStart=.* lb-agent --keep-nginx --group edge/);
      const cleanup = unit('thales-executor-cleanup.service');
      expect(cleanup).toContain('Type=oneshot');
      expect(cleanup).toMatch(/ExecStart=.* executor-cleanup .* --once$/m);
      expect(cleanup).not.toContain('--interval');
      expect(unit('thales-executor-cleanup.timer')).toContain('OnUnitActiveSec=5min');
      expect(unit('zookeeper.service')).toMatch(
        /ExecStart=\/usr\/bin\/java .*QuorumPeerMain .*zoo\.cfg$/m,
      );
    },
    TIMEOUT,
  );

  it(
    'a failed gate stops a rolling play with a message naming the host and the check',
    async () => {
      // Two replicas that do not run: the first one's gate fails, the second is never touched.
      const c = await AnsibleCluster.create(path.join(dir, 'gate'), {
        zookeeper: 0,
        schedulers: 2,
        agents: 0,
        lbAgents: 0,
      });
      const ansible = path.join(repoRoot(), 'deploy', 'ansible');
      const playbook = path.join(dir, 'gate', 'gate.yml');
      writeFileSync(
        playbook,
        `- hosts: schedulers
  serial: 1
  max_fail_percentage: 0
  any_errors_fatal: true
  gather_facts: false
  tasks:
    - block:
        - ansible.builtin.import_role: { name: scheduler, tasks_from: gates }
        - ansible.builtin.debug: { msg: "after the gates" }
      rescue:
        - ansible.builtin.import_tasks: ${ansible}/tasks/stop-on-failure.yml
`,
      );
      const run = await c.runPlaybook(playbook, {
        thales_version: '9.9.9',
        gate_retries: '1',
        gate_delay: '0',
      });
      const log = readFileSync(run.logFile, 'utf8');
      expect(run.code).not.toBe(0);
      expect(log).toContain("sched-1: 'gate: sched-1 /health answers 200' did not pass");
      expect(log).toContain('The upgrade stops here');
      // The progress callback reported the failed gate too.
      expect(log).toMatch(/\[progress .*\] sched-1: FAILED sched-1 \/health answers 200/);
      expect(log).not.toContain('sched-2');
      expect(log).not.toContain('after the gates');
    },
    TIMEOUT,
  );
});
