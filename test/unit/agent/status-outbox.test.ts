import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentIdentityStore, StatusOutbox } from '../../../src/agent/index.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'thales-outbox-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const update = (id: string, taskId = 't1') => ({
  updateId: id,
  taskId,
  state: 'TASK_RUNNING',
  message: '',
  hasExitCode: false,
  exitCode: 0,
  atMs: 1,
});

describe('StatusOutbox (on a real temp dir)', () => {
  it('keeps updates on disk in order until acked, across re-opening', () => {
    const dir = tempDir();
    const a = new StatusOutbox(dir);
    a.add(update('u-1'));
    a.add(update('u-2', 't2'));
    a.add(update('u-3'));
    const b = new StatusOutbox(dir);
    expect(b.pending().map((e) => e.updateId)).toEqual(['u-1', 'u-2', 'u-3']);
    expect(b.pending().find((e) => e.updateId === 'u-2')?.taskId).toBe('t2');
    expect(b.ack(['u-2', 'unknown'])).toBe(1);
    b.add(update('u-4'));
    const c = new StatusOutbox(dir);
    expect(c.pending().map((e) => e.updateId)).toEqual(['u-1', 'u-3', 'u-4']);
    c.ack(['u-1', 'u-3', 'u-4']);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('ignores stray files (temp files of an interrupted write)', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, '000000000001-u-1.json.tmp-123'), '{"upd');
    expect(new StatusOutbox(dir).size).toBe(0);
  });
});

describe('AgentIdentityStore (on a real temp dir)', () => {
  it('generates an id once, keeps it, and persists a higher term only', () => {
    const file = path.join(tempDir(), 'agent.json');
    const first = new AgentIdentityStore(file);
    expect(first.agentId).toMatch(/-[0-9a-f]{6}$/);
    first.raiseTerm(7);
    first.raiseTerm(3);
    const again = new AgentIdentityStore(file);
    expect(again.agentId).toBe(first.agentId);
    expect(again.highestTerm).toBe(7);
    expect(() => new AgentIdentityStore(file, 'other-id')).toThrow(/--agent-id/);
  });
});
