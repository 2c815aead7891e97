import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CodecError,
  MAX_ZNODE_BYTES,
  SCHEMA_VERSION,
  decodeJson,
  encodeJson,
} from '../../../src/coordination/index.js';

describe('json codec', () => {
  it('stamps schemaVersion and strips it on decode', () => {
    const buf = encodeJson({ a: 1 });
    expect(JSON.parse(buf.toString())).toEqual({ schemaVersion: SCHEMA_VERSION, a: 1 });
    expect(decodeJson(buf, '/p')).toEqual({ a: 1 });
  });

  it('round-trips any JSON object (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string().filter((k) => k !== 'schemaVersion' && k !== '__proto__'),
          fc.jsonValue(),
        ),
        (value) => {
          expect(decodeJson(encodeJson(value), '/p')).toEqual(JSON.parse(JSON.stringify(value)));
        },
      ),
    );
  });

  it('refuses a newer schemaVersion instead of misreading it', () => {
    const future = Buffer.from(JSON.stringify({ schemaVersion: SCHEMA_VERSION + 1, a: 1 }));
    expect(() => decodeJson(future, '/requests/r1')).toThrow(CodecError);
    expect(() => decodeJson(future, '/requests/r1')).toThrow(
      /\/requests\/r1: unsupported schemaVersion 2/,
    );
  });

  it.each([
    ['empty', Buffer.alloc(0), /empty document/],
    ['not JSON', Buffer.from('{nope'), /not JSON/],
    ['not an object', Buffer.from('42'), /not a JSON object/],
    ['null', Buffer.from('null'), /not a JSON object/],
    ['no schemaVersion', Buffer.from('{"a":1}'), /unsupported schemaVersion undefined/],
    ['string schemaVersion', Buffer.from('{"schemaVersion":"1"}'), /unsupported schemaVersion/],
  ])('refuses %s, naming the path', (_what, buf, message) => {
    expect(() => decodeJson(buf, '/x')).toThrow(CodecError);
    expect(() => decodeJson(buf, '/x')).toThrow(message);
    expect(() => decodeJson(buf, '/x')).toThrow(/^\/x: /);
  });

  it('validates against a schema and names the failing field', () => {
    const schema = z.object({ term: z.number().int(), leaderId: z.string() });
    expect(decodeJson(encodeJson({ term: 3, leaderId: 'r1' }), '/t', schema)).toEqual({
      term: 3,
      leaderId: 'r1',
    });
    expect(() => decodeJson(encodeJson({ term: 'x', leaderId: 'r1' }), '/t', schema)).toThrow(
      /\/t: term /,
    );
  });

  it('refuses to encode a document over the znode size limit', () => {
    expect(() => encodeJson({ blob: 'x'.repeat(MAX_ZNODE_BYTES) }, '/big')).toThrow(
      /\/big: document is \d+ bytes, over 262144/,
    );
    expect(() => encodeJson({ blob: 'x'.repeat(MAX_ZNODE_BYTES - 100) })).not.toThrow();
  });
});
