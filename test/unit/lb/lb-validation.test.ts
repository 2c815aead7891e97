import { describe, expect, it } from 'vitest';
import { LbError } from '../../../src/lb/index.js';
import { parseLbRequest } from '../../../src/lb/index.js';

const ok = { requestId: 'r1', service: { serviceId: 's', basePath: '/s', groups: ['g'] } };

function fieldOf(input: unknown): string | undefined {
  try {
    parseLbRequest(input);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(LbError);
    expect((err as LbError).code).toBe('INVALID_ARGUMENT');
    return (err as LbError).details.field as string;
  }
}

describe('parseLbRequest', () => {
  it('accepts a minimal request and fills defaults', () => {
    const r = parseLbRequest(ok);
    expect(r.action).toBe('UPDATE');
    expect(r.service.templateName).toBe('default');
  });

  it('names the offending field', () => {
    expect(fieldOf({ ...ok, addUpstreams: [{ upstream: 'host' }] })).toBe(
      'addUpstreams.0.upstream',
    );
    expect(fieldOf({ ...ok, addUpstreams: [{ upstream: 'host:70000' }] })).toBe(
      'addUpstreams.0.upstream',
    );
    expect(fieldOf({ ...ok, service: { ...ok.service, groups: [] } })).toBe('service.groups');
    expect(fieldOf({ ...ok, service: { ...ok.service, basePath: 'x' } })).toBe('service.basePath');
    expect(fieldOf({ ...ok, service: { ...ok.service, basePath: '/a b;' } })).toBe(
      'service.basePath',
    );
    expect(fieldOf({ ...ok, surprise: 1 })).toBe('surprise');
    expect(fieldOf({ ...ok, service: { ...ok.service, options: { x: 'a { b' } } })).toBe(
      'service.options.x',
    );
    expect(fieldOf({ ...ok, action: 'EXPLODE' })).toBe('action');
    expect(fieldOf({ ...ok, requestId: '../etc' })).toBe('requestId');
  });

  it('refuses a huge body before looking inside it', () => {
    const huge = { ...ok, owners: ['x'.repeat(70 * 1024)] };
    expect(fieldOf(huge)).toBe('request');
  });
});
