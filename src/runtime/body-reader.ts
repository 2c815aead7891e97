import type { IncomingMessage } from 'node:http';
import { CodedError } from './error-codes.js';

/** Largest request body an API reads (Singularity deploys are a few kilobytes). */
export const MAX_BODY_BYTES = 1024 * 1024;

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
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CodedError('INVALID_ARGUMENT', `body: malformed JSON (${(err as Error).message})`, {
      field: 'body',
    });
  }
}
