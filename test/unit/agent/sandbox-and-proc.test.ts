import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  isProcessAlive,
  parseProcStat,
  readChunk,
  readProcStat,
  resolveSandboxPath,
  taskArgv,
  taskEnvironment,
  type TaskJson,
} from '../../../src/agent/index.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'thales-sandbox-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('resolveSandboxPath (real files)', () => {
  const sandbox = path.join(root, 'sb');
  mkdirSync(path.join(sandbox, 'sub'), { recursive: true });
  writeFileSync(path.join(sandbox, 'stdout'), 'hello world');
  writeFileSync(path.join(root, 'secret'), 'no');
  symlinkSync(path.join(root, 'secret'), path.join(sandbox, 'out-link'));
  symlinkSync('stdout', path.join(sandbox, 'in-link'));

  it('resolves files inside, including symlinks that stay inside', () => {
    expect(resolveSandboxPath(sandbox, 'stdout')).toBe(path.join(sandbox, 'stdout'));
    expect(resolveSandboxPath(sandbox, 'in-link')).toBe(path.join(sandbox, 'stdout'));
  });

  it.each(['../secret', 'sub/../../secret', '/etc/passwd', 'out-link', 'a\0b'])(
    'refuses %j naming path',
    (p) => {
      expect(() => resolveSandboxPath(sandbox, p)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { field: 'path' } }),
      );
    },
  );

  it('reads chunks the MesosFileChunkObject way', () => {
    const file = path.join(sandbox, 'stdout');
    expect(readChunk(file, 0, 5)).toEqual({ data: 'hello', offset: 0, nextOffset: 5 });
    expect(readChunk(file, 6, 100)).toEqual({ data: 'world', offset: 6, nextOffset: 11 });
    expect(readChunk(file, 50, 10)).toEqual({ data: '', offset: 11, nextOffset: 11 });
  });
});

describe('/proc parsing', () => {
  it('counts fields from the last parenthesis (names may hold spaces and parentheses)', () => {
    const fields = Array.from({ length: 20 }, (_, i) => String(i + 4));
    const text = `123 (a) b (c)) S ${fields.join(' ')}`;
    // state S, then ppid=4, pgrp=5 … starttime is field 22 → value 22.
    expect(parseProcStat(text)).toEqual({ state: 'S', ppid: 4, pgid: 5, startTime: 22 });
  });

  it('tells our process from a pid reused by another (start time differs)', () => {
    const me = readProcStat(process.pid)!;
    expect(isProcessAlive(process.pid, me.startTime)).toBe(true);
    expect(isProcessAlive(process.pid, me.startTime + 1)).toBe(false);
    expect(isProcessAlive(0)).toBe(false);
  });
});

describe('executor command and environment (pure)', () => {
  const task = {
    taskId: 't-1',
    requestId: 'r',
    deployId: 'd',
    instanceNo: 2,
    command: 'echo $PORT',
    arguments: [],
    env: { A: '1', PORT: 'overridden' },
    ports: [31000, 31001],
  } as unknown as TaskJson;

  it('runs through /bin/sh -c without arguments, execs with them', () => {
    expect(taskArgv(task)).toEqual(['/bin/sh', ['-c', 'echo $PORT']]);
    expect(taskArgv({ command: '/bin/echo', arguments: ['a b'] })).toEqual(['/bin/echo', ['a b']]);
  });

  it('sets TASK_ID, PORT, PORT0..n and THALES_* over the deploy env', () => {
    expect(taskEnvironment(task, { HOME: '/h' })).toEqual({
      HOME: '/h',
      A: '1',
      TASK_ID: 't-1',
      PORT: '31000',
      PORT0: '31000',
      PORT1: '31001',
      THALES_REQUEST_ID: 'r',
      THALES_DEPLOY_ID: 'd',
      THALES_INSTANCE_NO: '2',
    });
  });

  it("sets TASK_HOST to the agent's host when task.json has one (older ones do not)", () => {
    const placed = { ...task, host: '127.0.0.3' } as TaskJson;
    expect(taskEnvironment(placed, {}).TASK_HOST).toBe('127.0.0.3');
    expect(taskEnvironment(task, {})).not.toHaveProperty('TASK_HOST');
  });
});
