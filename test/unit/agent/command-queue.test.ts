import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CommandQueue } from '../../../src/agent/command-queue.js';

const logger = pino({ level: 'silent' });

/** Resolves once the queue has run everything pushed so far. */
async function drained(q: CommandQueue): Promise<void> {
  while (q.size > 0) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
}

describe('CommandQueue', () => {
  it('runs commands in arrival order, letting the event loop turn between them', async () => {
    const q = new CommandQueue({ logger, highestTerm: () => 1 });
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      q.push(1, `c${i}`, () => {
        seen.push(`c${i}`);
        // A slow, synchronous command (what a launch is on a loaded host).
        const until = Date.now() + 5;
        while (Date.now() < until);
      });
    }
    // Scheduled after the pushes: runs before the last command only if the queue yields.
    setImmediate(() => seen.push('other work'));
    await drained(q);
    expect(seen.filter((s) => s !== 'other work')).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    expect(seen.indexOf('other work')).toBeGreaterThan(0);
    expect(seen.indexOf('other work')).toBeLessThan(seen.length - 1);
  });

  it('drops a queued command whose term a newer leader has overtaken meanwhile', async () => {
    let highest = 3;
    const q = new CommandQueue({ logger, highestTerm: () => highest });
    const ran: string[] = [];
    q.push(3, 'launch a', () => ran.push('a'));
    highest = 4; // a message of term 4 arrived before the queue ran
    q.push(4, 'launch b', () => ran.push('b'));
    await drained(q);
    expect(ran).toEqual(['b']);
  });

  it('keeps going after a command throws', async () => {
    const q = new CommandQueue({ logger, highestTerm: () => 1 });
    const ran: string[] = [];
    q.push(1, 'bad', () => {
      throw new Error('disk full');
    });
    q.push(1, 'good', () => ran.push('good'));
    await drained(q);
    expect(ran).toEqual(['good']);
  });
});
