import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { exitOnProcessFault, FAULT_EXIT_CODE } from '../../../src/observability/index.js';

/** A process stand-in: emits the fault events, records exits instead of exiting. */
class FakeProcess extends EventEmitter {
  readonly exits: number[] = [];
  exit(code: number): void {
    this.exits.push(code);
  }
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

describe('exitOnProcessFault', () => {
  it('logs an unhandled rejection as one fatal line with the error, then exits non-zero', () => {
    const proc = new FakeProcess();
    const { lines, logger } = capture();
    exitOnProcessFault(logger, proc);
    proc.emit('unhandledRejection', new Error('ZooKeeper CONNECTION_LOSS at /tasks/history/r1'));
    expect(proc.exits).toEqual([FAULT_EXIT_CODE]);
    expect(FAULT_EXIT_CODE).not.toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 60,
      origin: 'unhandledRejection',
      err: { message: 'ZooKeeper CONNECTION_LOSS at /tasks/history/r1' },
    });
  });

  it('logs an uncaught exception with its origin; a second fault exits without logging again', () => {
    const proc = new FakeProcess();
    const { lines, logger } = capture();
    exitOnProcessFault(logger, proc);
    proc.emit('uncaughtException', new TypeError('boom'), 'uncaughtException');
    proc.emit('uncaughtException', new TypeError('again'), 'uncaughtException');
    expect(proc.exits).toEqual([FAULT_EXIT_CODE, FAULT_EXIT_CODE]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 60, err: { type: 'TypeError', message: 'boom' } });
  });

  it('uninstalls', () => {
    const proc = new FakeProcess();
    const { logger } = capture();
    exitOnProcessFault(logger, proc)();
    expect(proc.listenerCount('unhandledRejection')).toBe(0);
    expect(proc.listenerCount('uncaughtException')).toBe(0);
  });
});
