import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RotatingLogWriter,
  gzipFile,
  isUncompressedRotatedLog,
  logRotationFromEnv,
} from '../../../src/agent/index.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'thales-rotator-'));
  dirs.push(d);
  return d;
}

function writeAll(w: RotatingLogWriter, chunks: Buffer[]): Promise<void> {
  return new Promise((resolve, reject) => {
    w.once('error', reject);
    for (const c of chunks) w.write(c);
    w.end(() => resolve());
  });
}

describe('RotatingLogWriter (real files)', () => {
  it('keeps every file within maxBytes, keeps `keep` gzipped files, loses no recent byte', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'stdout');
    const w = new RotatingLogWriter(file, { maxBytes: 4096, keep: 3 });
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.from(`${i}:${'x'.repeat(700)}\n`));
    await writeAll(w, chunks);
    const names = readdirSync(dir).sort();
    expect(names).toEqual(['stdout', 'stdout.1.gz', 'stdout.2.gz', 'stdout.3.gz']);
    const current = readFileSync(file);
    expect(current.length).toBeLessThanOrEqual(4096);
    const rotated = [3, 2, 1].map((i) => gunzipSync(readFileSync(`${file}.${i}.gz`)));
    for (const r of rotated) expect(r.length).toBeLessThanOrEqual(4096);
    // The retained files are the newest output, in order, with nothing missing in between.
    const all = Buffer.concat(chunks).toString();
    const kept = Buffer.concat([...rotated, current]).toString();
    expect(all.endsWith(kept)).toBe(true);
    expect(kept.length).toBeGreaterThan(3 * 3000);
  });

  it('splits a single write larger than maxBytes', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'stderr');
    const w = new RotatingLogWriter(file, { maxBytes: 1024, keep: 10 });
    const big = randomBytes(5000);
    await writeAll(w, [big]);
    const parts = [4, 3, 2, 1].map((i) => gunzipSync(readFileSync(`${file}.${i}.gz`)));
    expect(Buffer.concat([...parts, readFileSync(file)]).equals(big)).toBe(true);
  });

  it('keep 0 drops old output instead of keeping rotated files', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'stdout');
    const w = new RotatingLogWriter(file, { maxBytes: 1024, keep: 0 });
    await writeAll(w, [randomBytes(3000)]);
    expect(readdirSync(dir)).toEqual(['stdout']);
  });

  it('compresses a rotated file an earlier executor left uncompressed', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'stdout');
    writeFileSync(`${file}.1`, 'left over\n');
    const w = new RotatingLogWriter(file, { maxBytes: 1024, keep: 3 });
    await writeAll(w, [Buffer.alloc(1000, 97), Buffer.alloc(1000, 98)]);
    expect(gunzipSync(readFileSync(`${file}.2.gz`)).toString()).toBe('left over\n');
    expect(existsSync(`${file}.1`)).toBe(false);
  });
});

describe('gzipFile and settings', () => {
  it('gzips and removes the original; a complete .gz left by a crash just drops the original', async () => {
    const dir = tempDir();
    const f = path.join(dir, 'stdout');
    writeFileSync(f, 'hello '.repeat(1000));
    const r = await gzipFile(f);
    expect(r.bytesIn).toBe(6000);
    expect(r.bytesOut).toBeGreaterThan(0);
    expect(existsSync(f)).toBe(false);
    writeFileSync(f, 'again');
    await gzipFile(f);
    expect(gunzipSync(readFileSync(`${f}.gz`)).toString()).toBe('hello '.repeat(1000));
    expect(existsSync(f)).toBe(false);
  });

  it('reads rotation settings from the environment with safe fallbacks', () => {
    expect(logRotationFromEnv({ THALES_LOG_MAX_BYTES: '65536', THALES_LOG_KEEP: '2' })).toEqual({
      maxBytes: 65536,
      keep: 2,
    });
    const d = logRotationFromEnv({ THALES_LOG_MAX_BYTES: '12', THALES_LOG_KEEP: '-1' });
    expect(d.maxBytes).toBeGreaterThanOrEqual(1024);
    expect(d.keep).toBeGreaterThanOrEqual(0);
    expect(isUncompressedRotatedLog('stdout.3')).toBe(true);
    expect(isUncompressedRotatedLog('stdout.3.gz')).toBe(false);
    expect(isUncompressedRotatedLog('stdout')).toBe(false);
  });
});
