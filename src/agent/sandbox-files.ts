import { closeSync, openSync, readSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { CodedError } from '../runtime/index.js';

/** Singularity's MesosFileChunkObject: a slice of a sandbox file. */
export interface FileChunk {
  data: string;
  offset: number;
  nextOffset: number;
}

/** One entry of a sandbox listing. */
export interface SandboxFileEntry {
  name: string;
  path: string;
  size: number;
  mtime: number;
  isDirectory: boolean;
}

/** Largest chunk one read returns. */
export const MAX_CHUNK_BYTES = 1024 * 1024;

/**
 * Resolves `relative` inside `sandbox`, refusing anything that could leave it: absolute paths,
 * `..` segments, NUL bytes, and symlinks that resolve outside. Errors name the `path` field.
 */
export function resolveSandboxPath(sandbox: string, relative: string): string {
  const bad = (why: string): CodedError =>
    new CodedError('INVALID_ARGUMENT', `path ${why}`, { field: 'path' });
  if (relative.includes('\0')) throw bad('must not contain NUL');
  if (path.isAbsolute(relative)) throw bad('must be relative to the sandbox');
  if (relative.split(/[\\/]/).includes('..')) throw bad("must not contain '..'");
  const root = realpathSync(sandbox);
  let real: string;
  try {
    real = realpathSync(path.join(root, relative));
  } catch {
    throw new CodedError('NOT_FOUND', `path '${relative}' does not exist in the sandbox`, {
      field: 'path',
    });
  }
  if (real !== root && !real.startsWith(root + path.sep)) throw bad('leads outside the sandbox');
  return real;
}

/** Reads up to `length` bytes at `offset` of a sandbox file. */
export function readChunk(file: string, offset: number, length: number): FileChunk {
  const size = statSync(file).size;
  const start = Math.min(offset, size);
  const want = Math.max(0, Math.min(length, MAX_CHUNK_BYTES, size - start));
  const buf = Buffer.alloc(want);
  const fd = openSync(file, 'r');
  let read = 0;
  try {
    read = want > 0 ? readSync(fd, buf, 0, want, start) : 0;
  } finally {
    closeSync(fd);
  }
  return { data: buf.subarray(0, read).toString('utf8'), offset: start, nextOffset: start + read };
}

/** Lists a sandbox directory (not recursive). */
export function listDir(dir: string, sandboxRoot: string): SandboxFileEntry[] {
  const root = realpathSync(sandboxRoot);
  return readdirSync(dir)
    .filter((name) => !name.includes('.tmp-'))
    .map((name) => {
      const full = path.join(dir, name);
      const st = statSync(full);
      return {
        name,
        path: path.relative(root, full),
        size: st.size,
        mtime: st.mtimeMs,
        isDirectory: st.isDirectory(),
      };
    });
}
