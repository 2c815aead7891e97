/** Simulated agents for the task tests (the simulator itself lives in src/dev). */
import { afterAll, onTestFinished } from 'vitest';
import { SimAgent, closeSimAgentChannels, type SimAgentOptions } from '../../src/dev/index.js';
import type { TestCluster } from './cluster.js';

export { SimAgent, type SimAgentOptions };

let registeredCleanup = false;

/** Starts simulated agents against every replica of `cluster`; stopped when the test ends. */
export function startSimAgents(
  cluster: TestCluster,
  ids: string[],
  options: Partial<SimAgentOptions> = {},
): SimAgent[] {
  if (!registeredCleanup) {
    registeredCleanup = true;
    afterAll(() => closeSimAgentChannels());
  }
  const schedulers = cluster.replicas.map((r) => `127.0.0.1:${r.grpcPort}`);
  const agents = ids.map((agentId) => new SimAgent({ agentId, schedulers, ...options }));
  for (const a of agents) a.start();
  onTestFinished(() => {
    for (const a of agents) a.stop();
  });
  return agents;
}
