import { describe, expect, it } from 'vitest';
import { KILL_RESEND_MARGIN_MS, isKillResendDue } from '../../../src/scheduler/kill-policy.js';

describe('kill re-send policy', () => {
  it('re-sends only once the agent grace and the report margin have both passed', () => {
    const grace = 5_000;
    const sentAt = 1_000_000;
    expect(isKillResendDue(sentAt, sentAt, grace)).toBe(false);
    expect(isKillResendDue(sentAt, sentAt + grace, grace)).toBe(false);
    expect(isKillResendDue(sentAt, sentAt + grace + KILL_RESEND_MARGIN_MS, grace)).toBe(false);
    expect(isKillResendDue(sentAt, sentAt + grace + KILL_RESEND_MARGIN_MS + 1, grace)).toBe(true);
  });

  it('scales with the kill grace (a longer grace waits longer)', () => {
    const sentAt = 0;
    const at = 10_000;
    expect(isKillResendDue(sentAt, at, 5_000)).toBe(true);
    expect(isKillResendDue(sentAt, at, 30_000)).toBe(false);
  });
});
