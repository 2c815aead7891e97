/**
 * The id schemas every edge checks path parameters and lookup fields against: whatever they
 * accept is a safe znode name (ZooKeeper refuses `.`, `..`, `/` inside a name, control and
 * non-ASCII characters), and an id the system itself makes (task ids) is accepted.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  agentIdSchema,
  deployIdSchema,
  makeTaskId,
  parseId,
  requestIdSchema,
  taskIdSchema,
} from '../../../src/state/index.js';

const SCHEMAS = {
  requestId: requestIdSchema,
  deployId: deployIdSchema,
  agentId: agentIdSchema,
  taskId: taskIdSchema,
};

describe('id schemas', () => {
  for (const [field, schema] of Object.entries(SCHEMAS)) {
    it(`${field}: anything accepted is a safe znode name, and errors name the field`, () => {
      fc.assert(
        fc.property(fc.oneof(fc.string(), fc.constantFrom('.', '..', '...', 'a/b', '%2e')), (v) => {
          let accepted: string | undefined;
          try {
            accepted = parseId(schema, v, field);
          } catch (err) {
            expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field } });
            expect((err as Error).message.startsWith(`${field}: `)).toBe(true);
            return;
          }
          expect(accepted).toMatch(/^[A-Za-z0-9_.-]{1,400}$/);
          expect(['.', '..']).not.toContain(accepted);
        }),
        { numRuns: 2_000 },
      );
      for (const bad of ['', '.', '..', 'a/b', 'x'.repeat(5_000), 'ü', 'a\u0000']) {
        expect(() => parseId(schema, bad, field)).toThrow(field);
      }
    });
  }

  it('accepts the task ids the scheduler makes', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_-]{1,100}$/),
        fc.stringMatching(/^[A-Za-z0-9_]{1,50}$/),
        fc.nat(),
        fc.nat({ max: 100_000 }),
        fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$/),
        (requestId, deployId, at, instance, agentId) => {
          const taskId = makeTaskId(requestId, deployId, at, instance, agentId);
          expect(parseId(taskIdSchema, taskId, 'taskId')).toBe(taskId);
        },
      ),
    );
  });
});
