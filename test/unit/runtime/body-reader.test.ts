import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MAX_BODY_DEPTH, readJsonBody } from '../../../src/runtime/index.js';

function request(text: string): IncomingMessage {
  const stream = Readable.from([Buffer.from(text)]) as unknown as IncomingMessage;
  stream.headers = {};
  return stream;
}

describe('readJsonBody', () => {
  it('reads JSON, and an empty body as undefined', async () => {
    expect(await readJsonBody(request('{"a":[1,{"b":"[[["}]}'))).toEqual({ a: [1, { b: '[[[' }] });
    expect(await readJsonBody(request('  '))).toBeUndefined();
  });

  it('refuses nesting past the limit before parsing, naming the body', async () => {
    const ok = `${'['.repeat(MAX_BODY_DEPTH)}${']'.repeat(MAX_BODY_DEPTH)}`;
    await expect(readJsonBody(request(ok))).resolves.toBeInstanceOf(Array);
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    await expect(readJsonBody(request(deep))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('body: nested deeper than'),
    });
    // Brackets inside strings (escaped quotes included) are text, not nesting.
    const quoted = JSON.stringify({ s: `\\"${'['.repeat(1_000)}` });
    await expect(readJsonBody(request(quoted))).resolves.toHaveProperty('s');
  });

  it('refuses malformed JSON and oversized bodies', async () => {
    await expect(readJsonBody(request('{"a":'))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(readJsonBody(request('"abcdef"'), 3)).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
  });
});
