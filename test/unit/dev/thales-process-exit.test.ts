/**
 * A `thales` process that ends on its own says so (the chaos run counts it as a crash); the
 * chaos run's own nemesis kills, asked for, are covered by test/chaos/chaos-run.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ProcessExit, ThalesProcess } from '../../../src/dev/index.js';

describe('ThalesProcess exits', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reports an exit nobody asked for as not asked, with its code and log file', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'thales-exit-'));
    const log = path.join(dir, 'p.log');
    const proc = new ThalesProcess('p1', ['no-such-command'], log);
    const exits: ProcessExit[] = [];
    proc.onExit((e) => exits.push(e));
    proc.start();
    await proc.waitExit();
    expect(exits).toHaveLength(1);
    expect(exits[0]).toMatchObject({ name: 'p1', logFile: log, signal: null, asked: false });
    expect(exits[0]?.code).not.toBe(0);
  });
});
