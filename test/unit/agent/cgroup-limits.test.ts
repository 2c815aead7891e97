import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CGROUP_ROOT,
  cgroupLimitsOf,
  cgroupRootFromEnv,
  prepareTaskCgroup,
  removeTaskCgroup,
  spawnInCgroup,
} from '../../../src/agent/cgroup-limits.js';
import { spawn } from 'node:child_process';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('cgroupLimitsOf (pure)', () => {
  it('memory.max in bytes and cpu.max as quota per 100 ms period', () => {
    expect(cgroupLimitsOf({ cpus: 0.5, memoryMb: 64 })).toEqual({
      'memory.max': String(64 * 1024 * 1024),
      'cpu.max': '50000 100000',
    });
    expect(cgroupLimitsOf({ cpus: 2, memoryMb: 0.5 })).toEqual({
      'memory.max': '524288',
      'cpu.max': '200000 100000',
    });
  });

  it('no limit for a resource not asked for', () => {
    expect(cgroupLimitsOf({ cpus: 0, memoryMb: 16 })).toEqual({ 'memory.max': '16777216' });
    expect(cgroupLimitsOf({ cpus: 1, memoryMb: 0 })).toEqual({ 'cpu.max': '100000 100000' });
    expect(cgroupLimitsOf(undefined)).toEqual({});
  });
});

describe('cgroup root', () => {
  it('is /sys/fs/cgroup unless THALES_CGROUP_ROOT says otherwise', () => {
    expect(cgroupRootFromEnv({})).toBe(CGROUP_ROOT);
    expect(cgroupRootFromEnv({ THALES_CGROUP_ROOT: '/sys/fs/cgroup/thales.slice' })).toBe(
      '/sys/fs/cgroup/thales.slice',
    );
  });
});

describe('prepareTaskCgroup where there is no cgroup v2 (a plain directory)', () => {
  it('creates nothing and says the task runs without limits', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'thales-not-cgroup-'));
    dirs.push(root);
    const prepared = prepareTaskCgroup('t1', { cpus: 1, memoryMb: 64 }, root);
    expect(prepared.dir).toBeUndefined();
    expect(prepared.notice).toBe(
      `no cgroup v2 hierarchy at ${root} (cgroup v1 or hybrid host, or not mounted): ` +
        'the task runs without memory and cpu limits',
    );
  });

  it('says nothing for a task that asks for no limits', () => {
    expect(prepareTaskCgroup('t1', { cpus: 0, memoryMb: 0 }, '/nonexistent')).toEqual({
      dir: undefined,
      applied: {},
      notice: undefined,
    });
  });
});

describe('spawnInCgroup and removeTaskCgroup without a cgroup', () => {
  it('spawns as usual', async () => {
    const { child, notice } = spawnInCgroup(undefined, () => spawn('true'));
    expect(notice).toBeUndefined();
    expect(await new Promise((r) => child.once('exit', r))).toBe(0);
  });

  it('a cgroup already gone counts as removed', async () => {
    expect(await removeTaskCgroup('/nonexistent/thales/t1')).toBeUndefined();
  });
});
