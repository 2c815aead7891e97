import type { Context } from 'koa';
import { z } from 'zod';
import { readJsonBody } from '../runtime/index.js';
import { parseInput } from '../state/index.js';
import { ApiError } from './errors.js';

/**
 * The query of a route that reads none of it: any parameter is refused by name, so a client
 * that believes it filtered or paged learns that it did not.
 */
export const NO_QUERY = z.strictObject({});

/** A path parameter as the router decoded it (`%2e%2e` is `..` here: validate before use). */
export function pathParam(ctx: Context, name: string): string {
  return (ctx.params as Record<string, string | undefined>)[name] ?? '';
}

/**
 * Parses the query string with a strict schema: an unknown parameter or a bad value is an
 * INVALID_ARGUMENT naming `query.<name>`. A repeated parameter arrives as an array, which a
 * scalar schema refuses.
 */
export function parseQuery<T>(ctx: Context, schema: z.ZodType<T>): T {
  return parseInput(schema, { ...ctx.query }, 'query');
}

/**
 * Reads a JSON body (bounded by `MAX_BODY_BYTES`). An oversized body is refused before the
 * rest of it is read, and the connection closes after the answer.
 */
export async function readBody(ctx: Context): Promise<unknown> {
  try {
    return await readJsonBody(ctx.req);
  } catch (err) {
    ctx.set('Connection', 'close');
    throw err;
  }
}

/** For routes that take no body: nothing, or `{}`; anything else is refused, acting on none. */
export async function readNoBody(ctx: Context): Promise<void> {
  const body = await readBody(ctx);
  const empty =
    body === undefined ||
    (typeof body === 'object' &&
      body !== null &&
      !Array.isArray(body) &&
      !Object.keys(body).length);
  if (!empty) {
    throw new ApiError('INVALID_ARGUMENT', 'body: this route takes no body', { field: 'body' });
  }
}
