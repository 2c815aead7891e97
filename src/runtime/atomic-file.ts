import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';

/** How durable a {@link writeFileAtomic} must be. */
export interface AtomicWriteOptions {
  /**
   * `true` (the default): fsync the file and its directory, so the new content survives a
   * power loss. `false` for files derived from other state and re-rendered at start (nginx
   * configuration): readers still never see a torn file, without paying two fsyncs per file.
   */
  durable?: boolean;
}

/**
 * Writes `data` to `file` so that a reader (or a crash) sees either the old content or the new,
 * never a torn file: write a temp file, then {@link replaceFileAtomic} it over `file`.
 */
export function writeFileAtomic(
  file: string,
  data: string,
  options: AtomicWriteOptions = {},
): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, data);
    if (options.durable !== false) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  if (options.durable !== false) fsyncDir(path.dirname(file));
}

/** Writes JSON atomically and durably (see {@link writeFileAtomic}). */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, `${JSON.stringify(value)}\n`);
}

/**
 * Moves a fully written `tmp` over `file` durably: fsync its content, rename, fsync the
 * directory. For files written by streams (compressed logs).
 */
export function replaceFileAtomic(tmp: string, file: string): void {
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

/** fsyncs a directory so a rename or unlink in it is durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Reads a JSON file, or returns undefined if it does not exist or is not (yet) valid JSON. */
export function readJsonOrUndefined<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
