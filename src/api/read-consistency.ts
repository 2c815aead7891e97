import { z } from 'zod';
import { ApiError } from './errors.js';

/**
 * How fresh a read must be. `sequential` (the default) reads what this replica's ZooKeeper
 * server has applied: never older than this replica's own earlier writes, but possibly behind
 * a write another replica had acknowledged. `linearizable` first passes a quorum-ordered
 * barrier (`linearizableBarrier`), so it reflects every write acknowledged before it began.
 */
export type ReadConsistency = 'sequential' | 'linearizable';

/** The query of a read route: `?consistency=sequential|linearizable`, nothing else. */
export const READ_QUERY = z.strictObject({
  consistency: z.enum(['sequential', 'linearizable']).default('sequential'),
});

const FROM_PROTO: Record<string, ReadConsistency> = {
  READ_CONSISTENCY_UNSPECIFIED: 'sequential',
  READ_CONSISTENCY_SEQUENTIAL: 'sequential',
  READ_CONSISTENCY_LINEARIZABLE: 'linearizable',
};

/** The `consistency` field of a gRPC read; an unknown enum number is INVALID_ARGUMENT. */
export function fromProtoConsistency(value: string | number | undefined): ReadConsistency {
  const known = FROM_PROTO[String(value ?? 'READ_CONSISTENCY_UNSPECIFIED')];
  if (known) return known;
  throw new ApiError('INVALID_ARGUMENT', `consistency: unknown value ${String(value)}`, {
    field: 'consistency',
  });
}
