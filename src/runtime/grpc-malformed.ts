import type * as grpc from '@grpc/grpc-js';

const MALFORMED = Symbol('malformed');

/** A request whose bytes were not valid protobuf (handlers answer INVALID_ARGUMENT). */
export interface MalformedRequest {
  [MALFORMED]: string;
}

/** Whether a request failed to decode; returns the decoder's message. */
export function malformedReason(request: unknown): string | undefined {
  return typeof request === 'object' && request !== null && MALFORMED in request
    ? (request as MalformedRequest)[MALFORMED]
    : undefined;
}

/**
 * The service definition with request decoders that never throw: grpc-js would answer a
 * malformed message with INTERNAL; handlers see it (via {@link malformedReason}) and answer
 * INVALID_ARGUMENT instead, persisting nothing.
 */
export function withTolerantDecoding<T extends grpc.ServiceDefinition>(def: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(def)) {
    out[name] = {
      ...method,
      requestDeserialize: (buf: Buffer): unknown => {
        try {
          return method.requestDeserialize(buf);
        } catch (err) {
          return { [MALFORMED]: err instanceof Error ? err.message : String(err) };
        }
      },
    };
  }
  return out as T;
}
