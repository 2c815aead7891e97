import { afterAll, describe, expect, it } from 'vitest';
import { shortAgentGraces } from '../../harness/tasks-cluster.js';

// One variable set before the suite, one absent: both must come back as they were.
const SET = 'THALES_AGENT_LOST_MS';
const UNSET = 'THALES_AGENT_RECONNECT_GRACE_MS';
const original = { [SET]: process.env[SET], [UNSET]: process.env[UNSET] };
process.env[SET] = 'set-before';
delete process.env[UNSET];

describe('shortAgentGraces', () => {
  describe('called in a suite', () => {
    shortAgentGraces();
    it('shortens the graces for the tests of the suite', () => {
      expect(process.env[SET]).toBe('2000');
      expect(process.env[UNSET]).toBe('3000');
    });
  });

  it('restores the previous values, and removes what was absent, when the suite ends', () => {
    expect(process.env[SET]).toBe('set-before');
    expect(UNSET in process.env).toBe(false);
  });
});

afterAll(() => {
  for (const [k, v] of Object.entries(original)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});
