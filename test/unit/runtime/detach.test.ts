import { describe, expect, it, vi } from 'vitest';
import { detach } from '../../../src/runtime/index.js';

const settle = () => new Promise((r) => setImmediate(r));

describe('detach', () => {
  it('logs a rejection with what failed, then runs onError', async () => {
    const error = vi.fn();
    const onError = vi.fn();
    const err = new Error('CONNECTION_LOSS');
    detach(Promise.reject(err), { error }, 'status flush', onError);
    await settle();
    expect(error).toHaveBeenCalledWith({ err, what: 'status flush' }, 'status flush failed');
    expect(onError).toHaveBeenCalledWith(err);
  });

  it('says nothing when the work succeeds', async () => {
    const error = vi.fn();
    const onError = vi.fn();
    detach(Promise.resolve(3), { error }, 'x', onError);
    await settle();
    expect(error).not.toHaveBeenCalled();
    expect(onError).not.toHaveBeenCalled();
  });
});
