/**
 * Hostile inputs for the edge-validation property test (tasks-hostile-input.test.ts): ids that
 * no schema accepts, queries and bodies that no route accepts, protobuf that is malformed or
 * full of such values, and raw senders that do not normalise what they send (fetch would
 * resolve `..` in a path before sending it).
 */
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import protobuf from 'protobufjs';

/** Values no id schema accepts (request, deploy, task, agent, lb ids). */
const HOSTILE_IDS = [
  '',
  '.',
  '..',
  '../..',
  '../../zookeeper',
  '/',
  'a/b',
  '%00',
  '\u0000',
  'a\u0000b',
  ' ',
  'a b',
  'ü',
  '😀',
  '\u202eevil',
  'a\nb',
  '${jndi:ldap://x}',
  "'; DROP TABLE requests; --",
  '<script>',
  'x'.repeat(5_000),
];

/** An id that every id schema refuses: a known-bad value, a bad character, or too long. */
export const hostileId: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...HOSTILE_IDS),
  fc
    .tuple(fc.string({ maxLength: 20 }), fc.constantFrom('/', '%', ' ', '\u0000', 'é', ':', '*'))
    .map(([s, bad]) => `${s}${bad}${s}`),
  fc.integer({ min: 401, max: 5_000 }).map((n) => 'a'.repeat(n)),
);

/** Percent-encodes every byte outside RFC 3986's unreserved set (lone surrogates included). */
export function percentEncode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.~-]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Raw segments the router decodes itself (the client sends them as they are). */
const RAW_SEGMENTS = ['..', '.', '%2e%2e', '%2E%2E', '%00', '%ZZ', '%', '%2F'];

/** Every known-bad segment once: tried on every route before the random ones. */
export const SEGMENT_EXAMPLES = [...RAW_SEGMENTS, ...HOSTILE_IDS.map(percentEncode)];

/** A path segment as it goes on the wire: encoded, or raw tricks the router must decode. */
export const hostileSegment: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: hostileId.map(percentEncode) },
  { weight: 1, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
);

/** A query string no route accepts (unknown names, bad values, repeats), or none. */
export const hostileQuery: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc
    .tuple(
      fc.constantFrom('consistency', 'path', 'offset', 'length', 'since', 'x-hostile'),
      fc.oneof(hostileId, fc.constantFrom('-1', '0', '1e400', 'NaN', 'LINEARIZABLE', 'null')),
    )
    .map(([key, value]) => `?${key}=${percentEncode(value)}&x-hostile=1`),
  fc.constantFrom('?consistency=bogus', '?offset=-1&length=0', '?path=&path=', '?%ZZ=%ZZ'),
);

/** Field names of the bodies the routes accept: a random object using only these is skipped. */
const KNOWN_FIELDS = new Set(['id', 'requestType', 'instances', 'deploy', 'message', 'actionId']);

/** A JSON body (as text) no route accepts. */
export const hostileBody: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('{', '{"id":', 'nul', '[1,', '\u0000', '{"a":1}}', "{'id':'x'}"),
  fc
    .oneof(fc.integer(), fc.string(), fc.boolean(), fc.array(fc.integer()))
    .map((v) => JSON.stringify(v)),
  fc
    .tuple(
      fc.constantFrom(...KNOWN_FIELDS),
      fc.oneof(fc.constant(null), fc.object(), fc.array(fc.nat())),
    )
    .map(([field, value]) => JSON.stringify({ [field]: value })),
  fc
    .dictionary(hostileId, fc.jsonValue(), { minKeys: 1, maxKeys: 3 })
    .map((v) => JSON.stringify(v)),
  fc.json({ maxDepth: 3 }).filter((text) => {
    const value = JSON.parse(text) as unknown;
    if (value === null) return false;
    if (typeof value !== 'object' || Array.isArray(value)) return true;
    return Object.keys(value).some((k) => !KNOWN_FIELDS.has(k));
  }),
  fc.constantFrom(
    `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
    JSON.stringify({ id: 'x'.repeat(2 * 1024 * 1024) }),
  ),
);

/** What one HTTP call answered. */
export interface HttpAnswer {
  status: number;
  body: string;
}

/** An HTTP call with the path sent exactly as given. */
export function sendRaw(
  port: number,
  method: string,
  path: string,
  body?: string,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: payload
          ? { 'content-type': 'application/json', 'content-length': payload.length }
          : {},
        timeout: 20_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    // The server may answer an oversized body and close before it is all sent: the answer
    // counts, the write error after it does not.
    req.on('error', (err) => reject(new Error(`${method} ${path.slice(0, 80)}: ${err.message}`)));
    req.on('timeout', () => req.destroy(new Error('no answer in 20 s')));
    req.end(payload);
  });
}

/** A protobuf message of `type` whose strings are hostile ids (one level of nesting). */
export function hostileMessage(type: protobuf.Type, depth = 0): fc.Arbitrary<Uint8Array> {
  return hostileObject(type, depth).map((value) => type.encode(type.fromObject(value)).finish());
}

function hostileObject(type: protobuf.Type, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of type.fieldsArray) {
    const value = hostileFieldValue(field, depth);
    if (!value) continue;
    fields[field.name] =
      field instanceof protobuf.MapField
        ? fc.dictionary(hostileId, value, { maxKeys: 2 })
        : field.repeated
          ? fc.array(value, { maxLength: 3 })
          : value;
  }
  return fc.record(fields);
}

function hostileFieldValue(field: protobuf.Field, depth: number): fc.Arbitrary<unknown> | null {
  field.resolve();
  if (field.resolvedType instanceof protobuf.Type) {
    return depth < 1 ? hostileObject(field.resolvedType, depth + 1) : null;
  }
  if (field.resolvedType instanceof protobuf.Enum) return fc.integer({ min: -1, max: 5 });
  switch (field.type) {
    case 'string':
      return hostileId;
    case 'bool':
      return fc.boolean();
    case 'double':
    case 'float':
      return fc.double();
    case 'bytes':
      return fc.uint8Array({ maxLength: 16 });
    default:
      return field.type.startsWith('u') ? fc.nat() : fc.integer();
  }
}

/** Statuses that mean the server failed rather than refused. */
export const SERVER_FAILURES = new Set([
  grpc.status.INTERNAL,
  grpc.status.UNKNOWN,
  grpc.status.UNIMPLEMENTED,
  grpc.status.DATA_LOSS,
]);

/**
 * Sends raw bytes to a gRPC method of any kind and resolves with the status it ended with
 * (a stream still open after `openMs` is cancelled: CANCELLED).
 */
export function sendGrpc(
  client: grpc.Client,
  path: string,
  kind: { requestStream: boolean; responseStream: boolean },
  bytes: Uint8Array,
  openMs = 1_000,
): Promise<grpc.StatusObject> {
  const identity = (b: Buffer): Buffer => b;
  const payload = Buffer.from(bytes);
  return new Promise((resolve) => {
    if (!kind.requestStream && !kind.responseStream) {
      const call = client.makeUnaryRequest(path, identity, identity, payload, () => undefined);
      call.on('status', resolve);
      return;
    }
    const call = kind.requestStream
      ? client.makeBidiStreamRequest(path, identity, identity)
      : client.makeServerStreamRequest(path, identity, identity, payload);
    if (kind.requestStream) {
      const duplex = call as grpc.ClientDuplexStream<Buffer, Buffer>;
      duplex.write(payload);
      duplex.end();
    }
    const timer = setTimeout(() => call.cancel(), openMs);
    call.on('data', () => undefined);
    call.on('error', () => undefined);
    call.on('status', (status: grpc.StatusObject) => {
      clearTimeout(timer);
      resolve(status);
    });
  });
}
