import { describe, expect, it } from 'vitest';
import { ERROR_STATUS, toApiError } from '../../../src/api/index.js';
import { ZkError } from '../../../src/coordination/index.js';

describe('toApiError', () => {
  it('makes a retryable ZooKeeper error (connection lost) a retryable 503', () => {
    for (const code of ['CONNECTION_LOSS', 'OPERATION_TIMEOUT', 'NOT_CONNECTED'] as const) {
      const e = toApiError(new ZkError(code, '/requests/x'));
      expect(e.code).toBe('UNAVAILABLE');
      expect(ERROR_STATUS[e.code].http).toBe(503);
      expect(e.toJSON().error).toMatchObject({ retryable: true });
      expect(e.message).toContain(code);
    }
  });

  it('keeps other ZooKeeper errors internal', () => {
    for (const code of ['SESSION_EXPIRED', 'MARSHALLING_ERROR', 'OTHER'] as const) {
      expect(toApiError(new ZkError(code, '/requests/x')).code).toBe('INTERNAL');
    }
  });
});
