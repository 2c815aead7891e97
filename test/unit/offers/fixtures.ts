/** Small hand-made offers and tasks for the rule and validation tests. */
import type { Offer, PendingTask } from '../../../src/offers/index.js';

/** An ACTIVE agent with 4 cpus, 4 GiB, 10 GB and ports 31000-31009, on its own host. */
export function agent(id: string, over: Partial<Offer> = {}): Offer {
  return {
    agentId: id,
    host: `${id}.host`,
    rack: 'rack-a',
    attributes: {},
    cpus: 4,
    memoryMb: 4096,
    diskMb: 10_000,
    ports: [{ begin: 31_000, end: 31_009 }],
    runningTasks: [],
    ...over,
  };
}

/** Instance `n` of deploy `deployId` of request `requestId`: 1 cpu, 512 MiB, no ports. */
export function task(
  requestId: string,
  deployId: string,
  n: number,
  over: Partial<PendingTask> = {},
): PendingTask {
  return {
    key: { requestId, deployId, instanceNo: n },
    resources: { cpus: 1, memoryMb: 512, diskMb: 100, numPorts: 0 },
    ...over,
  };
}

/** `count` instances of one deploy. */
export function instances(
  count: number,
  over: Partial<PendingTask> = {},
  requestId = 'web',
  deployId = 'd1',
): PendingTask[] {
  return Array.from({ length: count }, (_, i) => task(requestId, deployId, i, over));
}
