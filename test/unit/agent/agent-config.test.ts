import { describe, expect, it } from 'vitest';
import { AgentConfigError, parseAgentArgs, parsePortRanges } from '../../../src/agent/index.js';

const base = ['--work-dir', '/w', '--scheduler', 'a:1,b:2'];
const parse = (args: string[]) => parseAgentArgs(args, { host: 'h' });

function flagOf(args: string[]): string | undefined {
  try {
    parse(args);
  } catch (err) {
    return err instanceof AgentConfigError ? err.flag : 'not-a-config-error';
  }
  return undefined;
}

describe('parseAgentArgs (pure)', () => {
  it('applies defaults and parses lists', () => {
    const c = parse([
      ...base,
      '--attribute',
      'rack=r1',
      '--attribute',
      'zone=a=b',
      '--ports',
      '1000-1001,2000-2000',
    ]);
    expect(c.scheduler).toEqual(['a:1', 'b:2']);
    expect(c.attribute).toEqual({ rack: 'r1', zone: 'a=b' });
    expect(c.ports).toEqual([
      { begin: 1000, end: 1001 },
      { begin: 2000, end: 2000 },
    ]);
    expect(c).toMatchObject({ host: 'h', rack: 'DEFAULT', 'http-port': 7075, chroot: '/thales' });
    expect(c['zk-session-timeout-ms']).toBe(10_000);
    expect(parse([...base, '--zk-session-timeout-ms', '2000'])['zk-session-timeout-ms']).toBe(
      2_000,
    );
    expect(parse(['--work-dir', '/w', '--zk', 'z:2181']).zk).toBe('z:2181');
  });

  it('names the flag at fault', () => {
    expect(flagOf(['--scheduler', 'a:1'])).toBe('work-dir');
    expect(flagOf(['--work-dir', '/w'])).toBe('scheduler');
    expect(flagOf([...base, '--cpus', '-1'])).toBe('cpus');
    expect(flagOf([...base, '--memory-mb', 'x'])).toBe('memory-mb');
    expect(flagOf([...base, '--http-port', '70000'])).toBe('http-port');
    expect(flagOf([...base, '--agent-id', 'a b'])).toBe('agent-id');
    expect(flagOf([...base, '--chroot', 'rel'])).toBe('chroot');
    expect(flagOf([...base, '--zk', 'nope'])).toBe('zk');
    expect(flagOf([...base, '--zk-session-timeout-ms', '100'])).toBe('zk-session-timeout-ms');
    expect(flagOf([...base, '--zk-session-timeout-ms', 'soon'])).toBe('zk-session-timeout-ms');
    expect(flagOf([...base, '--nope'])).toBe('nope');
  });

  it('port ranges must be ordered and within 1-65535', () => {
    expect(() => parsePortRanges('5-3')).toThrow(/--ports/);
    expect(() => parsePortRanges('0-3')).toThrow(/--ports/);
    expect(() => parsePortRanges('1-70000')).toThrow(/--ports/);
  });
});
