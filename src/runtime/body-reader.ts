import type { IncomingMessage } from 'node:http';
import { CodedError } from './error-codes.js';

/** Largest request body an API reads (Singularity deploys are a few kilobytes). */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Deepest nesting of arrays and objects a body may have. No Thales document nests past a
 * handful of levels; a deeper one is refused before any recursive code (validation, size
 * checks that re-serialize it) can overflow the stack on it.
 */
export const MAX_BODY_DEPTH = 64;

function tooLarge(limit: number): CodedError {
  return new CodedError('PAYLOAD_TOO_LARGE', `body: over the limit of ${limit} bytes`, { limit });
}

/**
 * Reads a JSON body of at most `limit` bytes. A declared Content-Length over the limit is
 * refused before reading anything; a body that grows past it while streaming stops being
 * read at once. An empty body reads as `undefined`; invalid JSON is INVALID_ARGUMENT.
 */
export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let total = 0;
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) {
        req.off('data', onData);
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve());
    req.once('error', reject);
  });
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  if (nestingDepth(text) > MAX_BODY_DEPTH) {
    throw new CodedError('INVALID_ARGUMENT', `body: nested deeper than ${MAX_BODY_DEPTH} levels`, {
      field: 'body',
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CodedError('INVALID_ARGUMENT', `body: malformed JSON (${(err as Error).message})`, {
      field: 'body',
    });
  }
}

/** The deepest nesting of `[` and `{` in JSON text (brackets inside strings do not count). */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // a backslash escapes the next character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return deepest;
}
