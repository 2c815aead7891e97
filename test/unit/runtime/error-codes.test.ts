import { status as GrpcStatus } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ZkError } from '../../../src/coordination/index.js';
import { StateError } from '../../../src/state/index.js';
import { LbError } from '../../../src/lb/index.js';
import { CodedError, ERROR_STATUS, toCodedError, toGrpcError } from '../../../src/runtime/index.js';

describe('the error-code registry', () => {
  it('maps every domain error through the same table', () => {
    const state = new StateError('CONFLICT', 'request r was changed concurrently');
    const lb = new LbError('NOT_FOUND', 'serviceId: no service s', { field: 'serviceId' });
    expect(toGrpcError(state)).toEqual({
      code: GrpcStatus.ABORTED,
      details: 'CONFLICT: request r was changed concurrently',
    });
    expect(ERROR_STATUS[toCodedError(lb).code].http).toBe(404);
    expect(lb.toJSON()).toEqual({
      error: { code: 'NOT_FOUND', message: 'serviceId: no service s', field: 'serviceId' },
    });
  });

  it('turns an unknown error into INTERNAL without leaking its message, keeping the cause', () => {
    const secret = new Error('connection string with a password');
    const coded = toCodedError(secret);
    expect(coded).toBeInstanceOf(CodedError);
    expect(coded.code).toBe('INTERNAL');
    expect(coded.message).toBe('internal error');
    expect(coded.cause).toBe(secret);
    expect(toGrpcError(secret).code).toBe(GrpcStatus.INTERNAL);
  });

  it('answers 503 UNAVAILABLE, retryable, when ZooKeeper cannot be reached, not 500', () => {
    for (const code of [
      'CONNECTION_LOSS',
      'OPERATION_TIMEOUT',
      'NOT_CONNECTED',
      'SESSION_EXPIRED',
      'SESSION_MOVED',
    ] as const) {
      const coded = toCodedError(new ZkError(code, '/requests/r1'));
      expect([coded.code, ERROR_STATUS[coded.code].http]).toEqual(['UNAVAILABLE', 503]);
      expect(coded.message).toMatch(/may or may not have been applied/);
      expect(coded.details).toEqual({ retryable: true });
      expect(toGrpcError(new ZkError(code, '/x')).code).toBe(GrpcStatus.UNAVAILABLE);
    }
    // An answer of ZooKeeper's (not its absence) stays a bug if nothing above mapped it.
    expect(toCodedError(new ZkError('MARSHALLING_ERROR', '/x')).code).toBe('INTERNAL');
    expect(toCodedError(new ZkError('BAD_VERSION', '/x')).code).toBe('INTERNAL');
  });
});
