import type { z } from 'zod';

/** Version stamped into every JSON document this codebase stores in ZooKeeper. */
export const SCHEMA_VERSION = 1;

/** Largest znode this codebase writes (DESIGN.md: keep each znode under 256 KB). */
export const MAX_ZNODE_BYTES = 256 * 1024;

/** A stored document that could not be decoded: names the path and what was wrong. */
export class CodecError extends Error {
  override readonly name = 'CodecError';
}

/** Encodes `value` as JSON with `schemaVersion`, refusing documents over {@link MAX_ZNODE_BYTES}. */
export function encodeJson(value: object, path = '?'): Buffer {
  const buf = Buffer.from(JSON.stringify({ schemaVersion: SCHEMA_VERSION, ...value }));
  if (buf.length > MAX_ZNODE_BYTES) {
    throw new CodecError(`${path}: document is ${buf.length} bytes, over ${MAX_ZNODE_BYTES}`);
  }
  return buf;
}

/**
 * Decodes a stored JSON document. With a schema, the document is validated and typed;
 * newer schema versions than this code knows are refused rather than misread.
 */
export function decodeJson<T>(buf: Buffer | undefined, path: string, schema?: z.ZodType<T>): T {
  if (!buf || buf.length === 0) throw new CodecError(`${path}: empty document`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw new CodecError(`${path}: not JSON`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new CodecError(`${path}: not a JSON object`);
  }
  const { schemaVersion, ...rest } = parsed as { schemaVersion?: unknown };
  if (typeof schemaVersion !== 'number' || schemaVersion > SCHEMA_VERSION) {
    throw new CodecError(`${path}: unsupported schemaVersion ${String(schemaVersion)}`);
  }
  if (!schema) return rest as T;
  const result = schema.safeParse(rest);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new CodecError(`${path}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}
