import type { z } from 'zod';
import { type Coordinator, ZkError, decodeJson, encodeJson } from '../coordination/index.js';
import { StateError } from './state-error.js';
import { STATE_DIRS } from './state-paths.js';

/** A stored document with the znode version it was read at (for compare-and-set). */
export interface Versioned<T> {
  value: T;
  version: number;
}

/** Reads and decodes a znode, or null when it is missing. */
export async function readJson<T>(
  zk: Coordinator,
  path: string,
  schema: z.ZodType<T>,
): Promise<Versioned<T> | null> {
  const node = await zk.getOrNull(path);
  if (!node) return null;
  return { value: decodeJson(node.data, path, schema), version: node.version };
}

/** Children of a znode, or [] when it is missing. */
export async function childrenOrEmpty(zk: Coordinator, path: string): Promise<string[]> {
  try {
    return await zk.children(path);
  } catch (err) {
    if (err instanceof ZkError && err.code === 'NO_NODE') return [];
    throw err;
  }
}

/** Reads every child document of `dir` (missing or undecodable children are skipped). */
export async function readChildren<T>(
  zk: Coordinator,
  dir: string,
  schema: z.ZodType<T>,
): Promise<Versioned<T>[]> {
  const names = await childrenOrEmpty(zk, dir);
  const docs = await Promise.all(
    names.map((n) => readJson(zk, `${dir}/${n}`, schema).catch(() => null)),
  );
  return docs.filter((d): d is Versioned<T> => d !== null);
}

/** Encodes a document for storage (schemaVersion, 256 KB limit). */
export function toData(value: object, path: string): Buffer {
  return encodeJson(value, path);
}

/** Turns ZooKeeper's answers to a compare-and-set into the API's words. */
export function toStateError(err: unknown, what: string): unknown {
  if (!(err instanceof ZkError)) return err;
  switch (err.code) {
    case 'BAD_VERSION':
      return new StateError('CONFLICT', `${what} was changed concurrently; read it and retry`);
    case 'NODE_EXISTS':
      return new StateError('ALREADY_EXISTS', `${what} already exists`);
    case 'NO_NODE':
      return new StateError('NOT_FOUND', `${what} does not exist`);
    default:
      return err;
  }
}

const dirsReady = new WeakSet<Coordinator>();

/** Makes sure the state directories exist (once per coordinator is plenty: never removed). */
export async function ensureStateDirs(zk: Coordinator): Promise<void> {
  if (dirsReady.has(zk)) return;
  for (const dir of STATE_DIRS) await zk.mkdirp(dir);
  dirsReady.add(zk);
}
