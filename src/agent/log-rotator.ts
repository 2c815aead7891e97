import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import {
  closeSync,
  existsSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { replaceFileAtomic } from '../runtime/index.js';

/** Size-based rotation settings of a task's stdout/stderr. */
export interface LogRotationOptions {
  /** A log file is rotated before it would grow past this many bytes. */
  maxBytes: number;
  /** How many rotated (gzipped) files to keep: `<name>.1.gz` (newest) … `<name>.<keep>.gz`. */
  keep: number;
}

/** Defaults: 100 MiB per file, 5 rotated files (about 600 MiB at most per stream). */
export const DEFAULT_LOG_ROTATION: LogRotationOptions = { maxBytes: 100 * 1024 * 1024, keep: 5 };

/**
 * Rotation settings from the executor's environment (`THALES_LOG_MAX_BYTES`,
 * `THALES_LOG_KEEP`), which it inherits from the agent; bad or missing values fall back to
 * {@link DEFAULT_LOG_ROTATION}.
 */
export function logRotationFromEnv(env: NodeJS.ProcessEnv): LogRotationOptions {
  const int = (v: string | undefined, min: number, fallback: number): number => {
    const n = Number(v);
    return v !== undefined && Number.isInteger(n) && n >= min ? n : fallback;
  };
  return {
    maxBytes: int(env.THALES_LOG_MAX_BYTES, 1024, DEFAULT_LOG_ROTATION.maxBytes),
    keep: int(env.THALES_LOG_KEEP, 0, DEFAULT_LOG_ROTATION.keep),
  };
}

/** Whether a sandbox file name is a rotated log not yet compressed (`stdout.3`). */
export function isUncompressedRotatedLog(name: string): boolean {
  return /^(stdout|stderr)\.\d+$/.test(name);
}

/**
 * Gzips `file` to `<file>.gz` (via a temp file, fsync'd and renamed) and removes `file`. If a
 * complete `<file>.gz` already exists (a crash between the rename and the unlink), only the
 * unlink is left to do. Returns the bytes read and written.
 */
export async function gzipFile(file: string): Promise<{ bytesIn: number; bytesOut: number }> {
  const gz = `${file}.gz`;
  const bytesIn = statSync(file).size;
  if (existsSync(gz)) {
    unlinkSync(file);
    return { bytesIn, bytesOut: 0 };
  }
  const tmp = `${gz}.tmp-${process.pid}`;
  try {
    await pipeline(createReadStream(file), createGzip(), createWriteStream(tmp));
    replaceFileAtomic(tmp, gz);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  unlinkSync(file);
  return { bytesIn, bytesOut: statSync(gz).size };
}

/**
 * A writable stream into `file` that rotates by size: before a write would take the file past
 * `maxBytes` it becomes `<file>.1` and is gzipped to `<file>.1.gz` (older ones shift up to
 * `<file>.<keep>.gz`, the oldest is dropped). Writes wait while a rotation compresses, so a
 * fast writer is slowed by pipe back-pressure instead of filling the disk: at most
 * `maxBytes` in the current file, `keep` gzipped files, and one file being compressed.
 * The current file keeps its name, so readers of `stdout` always see the latest output.
 */
export class RotatingLogWriter extends Writable {
  private fd: number;
  private size: number;

  constructor(
    readonly file: string,
    private readonly options: LogRotationOptions,
  ) {
    super({ decodeStrings: true });
    this.fd = openSync(file, 'a');
    this.size = statSync(file).size;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error) => void): void {
    this.writeAll(chunk).then(() => done(), done);
  }

  override _final(done: (err?: Error) => void): void {
    try {
      closeSync(this.fd);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private async writeAll(chunk: Buffer): Promise<void> {
    let rest = chunk;
    while (rest.length > 0) {
      if (this.size > 0 && this.size + rest.length > this.options.maxBytes) await this.rotate();
      const room = Math.max(1, this.options.maxBytes - this.size);
      const part = rest.subarray(0, room);
      writeSync(this.fd, part);
      this.size += part.length;
      rest = rest.subarray(part.length);
    }
  }

  /** Moves the current file to `.1`, shifts the gzipped ones, compresses `.1`. */
  private async rotate(): Promise<void> {
    closeSync(this.fd);
    await compressLeftover(`${this.file}.1`);
    const { keep } = this.options;
    await fsp.rm(`${this.file}.${keep}.gz`, { force: true });
    for (let i = keep - 1; i >= 1; i--) {
      const from = `${this.file}.${i}.gz`;
      if (existsSync(from)) renameSync(from, `${this.file}.${i + 1}.gz`);
    }
    if (keep > 0) renameSync(this.file, `${this.file}.1`);
    else unlinkSync(this.file);
    this.fd = openSync(this.file, 'a');
    this.size = 0;
    if (keep > 0) await gzipFile(`${this.file}.1`);
  }
}

/** Compresses a rotated file left uncompressed by an earlier executor (crash mid-rotation). */
async function compressLeftover(file: string): Promise<void> {
  if (existsSync(file)) await gzipFile(file);
}

/** A task's stdout and stderr piped into rotating writers (see {@link attachRotatingLogs}). */
export interface TaskLogs {
  /**
   * Resolves once the task's output is all written: both pipes ended, or `timeoutMs` after
   * the call when a background child of the task still holds them open (its later output is
   * dropped: the task has ended).
   */
  drained(timeoutMs?: number): Promise<void>;
}

/** Pipes a child spawned with `stdio: ['ignore', 'pipe', 'pipe']` into `<dir>/stdout|stderr`. */
export function attachRotatingLogs(
  child: ChildProcess,
  dir: string,
  options: LogRotationOptions,
): TaskLogs {
  const pairs = (['stdout', 'stderr'] as const).map((name) => {
    const writer = new RotatingLogWriter(`${dir}/${name}`, options);
    const source = child[name];
    source?.pipe(writer);
    writer.on('error', () => source?.unpipe(writer));
    return { source, writer };
  });
  return {
    async drained(timeoutMs = 2_000): Promise<void> {
      const timer = setTimeout(() => pairs.forEach((p) => p.source?.destroy()), timeoutMs);
      await Promise.all(
        pairs.map(
          ({ source, writer }) =>
            new Promise<void>((resolve) => {
              if (writer.writableFinished || writer.destroyed) return resolve();
              writer.once('finish', resolve).once('close', resolve);
              writer.once('error', () => resolve());
              const end = (): void => {
                if (!writer.writableEnded) writer.end();
              };
              if (!source || source.destroyed || source.readableEnded) end();
              else source.once('close', end);
            }),
        ),
      );
      clearTimeout(timer);
    },
  };
}
