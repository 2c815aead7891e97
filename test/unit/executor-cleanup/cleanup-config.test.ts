import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CleanupConfigError, parseDuration } from '../../../src/executor-cleanup/index.js';

const FACTORS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

describe('parseDuration (pure)', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['10m', 600_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['0s', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text, 'retention')).toBe(ms);
  });

  it('reads a bare number as seconds', () => {
    expect(parseDuration('90', 'interval')).toBe(90_000);
  });

  it('takes fractions and rounds to whole milliseconds', () => {
    expect(parseDuration('1.5h', 'retention')).toBe(5_400_000);
    expect(parseDuration('0.0004s', 'retention')).toBe(0);
    expect(parseDuration('2.5ms', 'retention')).toBe(3);
  });

  it('ignores surrounding whitespace', () => {
    expect(parseDuration('  5m\n', 'interval')).toBe(300_000);
  });

  it.each(['', 'soon', '-5s', '5 m', '5M', '1e3', '5mins', '.5s', '5.s', 's'])(
    'refuses %j with an error naming the flag and the value',
    (text) => {
      const call = () => parseDuration(text, 'kill-grace');
      expect(call).toThrow(CleanupConfigError);
      expect(call).toThrow(`--kill-grace: '${text}' is not a duration`);
    },
  );

  it('n<unit> is n times the unit, for every whole n (fast-check)', () => {
    const unit = fc.constantFrom(...(Object.keys(FACTORS) as (keyof typeof FACTORS)[]));
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), unit, (n, u) => {
        expect(parseDuration(`${n}${u}`, 'interval')).toBe(n * FACTORS[u]);
      }),
    );
  });
});
