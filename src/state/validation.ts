import type { z } from 'zod';
import { StateError } from './state-error.js';

/** `a.b[2].c` from a zod issue path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

/**
 * Parses `input` with `schema`, or throws an INVALID_ARGUMENT {@link StateError} whose message
 * names the first offending field (`prefix` is the field's parent, e.g. `deploy`). Unknown
 * fields are reported by name.
 */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, prefix = ''): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new StateError('INVALID_ARGUMENT', 'invalid input');
  const base = formatPath(issue.path);
  const join = (a: string, b: string): string => (a && b ? `${a}.${b}` : a || b);
  let field = join(prefix, base);
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    field = join(field, issue.keys[0] ?? '');
    message = 'unknown field';
  } else if (issue.code === 'invalid_type' && issue.input === undefined) {
    message = 'is required';
  }
  throw new StateError('INVALID_ARGUMENT', `${field || 'body'}: ${message}`, {
    field: field || 'body',
  });
}

/**
 * Checks an id taken from a URL path, a query or a lookup message against its schema before
 * anything uses it (as a znode name, say); throws an INVALID_ARGUMENT {@link StateError} naming
 * `field`. The value itself is not echoed: it may be 5,000 characters of anything.
 */
export function parseId<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const message = result.error.issues[0]?.message ?? 'invalid';
  throw new StateError('INVALID_ARGUMENT', `${field}: ${message}`, { field });
}
