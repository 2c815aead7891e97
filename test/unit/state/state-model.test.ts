import { describe, expect, it } from 'vitest';
import {
  MAX_TASK_UPDATES,
  StateError,
  deployRequestInputSchema,
  makeTaskId,
  parseInput,
  requestInputSchema,
  toDeploy,
  toRequest,
  withUpdate,
  type Task,
} from '../../../src/state/index.js';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof StateError) return err.details.field as string;
    throw err;
  }
  return undefined;
}

describe('state model', () => {
  it('resolves Singularity aliases and defaults', () => {
    const r = toRequest(
      parseInput(requestInputSchema, {
        id: 'web',
        requestType: 'WORKER',
        slavePlacement: 'SEPARATE_BY_REQUEST',
        requiredSlaveAttributes: { zone: 'a' },
        allowedSlaveAttributes: { type: 'c5' },
      }),
    );
    expect(r).toMatchObject({
      instances: 1,
      agentPlacement: 'SEPARATE_BY_REQUEST',
      requiredAgentAttributes: { zone: 'a' },
      allowedAgentAttributes: { type: ['c5'] },
    });
    const d = toDeploy(
      parseInput(deployRequestInputSchema, {
        deploy: { requestId: 'web', id: 'd1', command: 'x' },
      }),
      5,
    );
    expect(d.resources).toEqual({ cpus: 1, memoryMb: 64, diskMb: 0, numPorts: 0 });
  });

  it('names the offending field, including unknown ones', () => {
    expect(
      fieldOf(() => parseInput(requestInputSchema, { id: 'x', requestType: 'SERVICE', foo: 1 })),
    ).toBe('foo');
    expect(fieldOf(() => parseInput(requestInputSchema, { id: 'x' }))).toBe('requestType');
    expect(
      fieldOf(() =>
        parseInput(deployRequestInputSchema, {
          deploy: { requestId: 'x', id: 'd', command: 'c', resources: { memoryMb: -5 } },
        }),
      ),
    ).toBe('deploy.resources.memoryMb');
    expect(
      fieldOf(() =>
        parseInput(deployRequestInputSchema, {
          deploy: { requestId: 'x', id: 'a-b', command: 'c' },
        }),
      ),
    ).toBe('deploy.id');
    expect(fieldOf(() => parseInput(requestInputSchema, null))).toBe('body');
  });

  it('task ids follow Singularity; update history stays bounded, keeping the first', () => {
    expect(makeTaskId('web', 'd1', 123, 2, 'agent-1')).toBe('web-d1-123-2-agent-1');
    let t: Task = {
      taskId: 't',
      requestId: 'r',
      deployId: 'd',
      instanceNo: 1,
      agentId: 'a',
      host: 'h',
      rack: 'r',
      startedAt: 0,
      ports: [],
      resources: { cpus: 1, memoryMb: 1, diskMb: 0, numPorts: 0 },
      term: 1,
      state: 'TASK_LAUNCHED',
      updates: [{ state: 'TASK_LAUNCHED', at: 0 }],
    };
    for (let i = 1; i < 50; i++) t = withUpdate(t, { state: 'TASK_RUNNING', at: i });
    expect(t.updates.length).toBe(MAX_TASK_UPDATES);
    expect(t.updates[0]!.state).toBe('TASK_LAUNCHED');
    expect(t.updates.at(-1)!.at).toBe(49);
  });
});
