import { describe, expect, it } from 'vitest';
import { decideTerm } from '../../../src/agent/index.js';

describe('decideTerm (pure)', () => {
  it('refuses older terms, raises on newer ones, accepts the same', () => {
    expect(decideTerm(5, 4)).toBe('refuse');
    expect(decideTerm(5, 5)).toBe('accept');
    expect(decideTerm(5, 6)).toBe('raise');
    expect(decideTerm(0, 0)).toBe('accept');
  });
});
