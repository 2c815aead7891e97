import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigWriter } from '../../../src/lb/agent/config-writer.js';

// ConfigWriter on a temporary directory (no nginx): what init() says about the main config
// decides whether an lb-agent that adopts a running nginx must reload it.
describe('ConfigWriter.init', () => {
  const dirs: string[] = [];
  const prefix = (): string => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'thales-writer-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('reports a main config it wrote for the first time as changed', () => {
    expect(new ConfigWriter(prefix(), 8080).init()).toBe(true);
  });

  it('reports the main config of the same settings as unchanged (a plain restart)', () => {
    const p = prefix();
    new ConfigWriter(p, 8080).init();
    expect(new ConfigWriter(p, 8080).init()).toBe(false);
  });

  it('reports a main config rendered differently before (another release) as changed', () => {
    const p = prefix();
    new ConfigWriter(p, 8080).init();
    const main = path.join(p, 'conf', 'nginx.conf');
    writeFileSync(main, readFileSync(main, 'utf8').replace('worker_processes 1;', '# old'));
    expect(new ConfigWriter(p, 8080).init()).toBe(true);
    expect(readFileSync(main, 'utf8')).toContain('worker_processes 1;');
  });
});
