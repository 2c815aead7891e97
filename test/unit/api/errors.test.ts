import { describe, expect, it } from 'vitest';
import { ERROR_STATUS, toApiError } from '../../../src/api/index.js';
import { ZkError } from '../../../src/coordination/index.js';
import { StateError } from '../../../src/state/index.js';

describe('toApiError', () => {
  it('answers 503 UNAVAILABLE when ZooKeeper cannot be reached, not 500', () => {
    for (const code of [
      'CONNECTION_LOSS',
      'OPERATION_TIMEOUT',
      'NOT_CONNECTED',
      'SESSION_EXPIRED',
    ] as const) {
      const e = toApiError(new ZkError(code, '/requests/r1'));
      expect([e.code, ERROR_STATUS[e.code].http]).toEqual(['UNAVAILABLE', 503]);
      expect(e.message).toMatch(/may or may not have been applied/);
    }
  });

  it('keeps state errors, and turns everything else into INTERNAL', () => {
    expect(toApiError(new StateError('CONFLICT', 'changed')).code).toBe('CONFLICT');
    expect(toApiError(new ZkError('MARSHALLING_ERROR', '/x')).code).toBe('INTERNAL');
    expect(toApiError(new Error('bug')).code).toBe('INTERNAL');
  });
});
