import { expect } from 'vitest';
import type { TestCluster } from './cluster.js';

/**
 * DESIGN.md invariant 1 as the cluster's background observers saw it: no two replicas led in
 * one term and no leader write landed out of term order — and the observers did observe (the
 * poller completed a round over every replica, the heartbeat monitor saw leader writes), so
 * an empty violation list is evidence, not silence.
 */
export function expectNoSplitBrain(cluster: TestCluster): void {
  const { poller } = cluster;
  expect(
    poller.completeRounds,
    `the split-brain poller never saw every replica (${poller.attemptedRounds} rounds tried)`,
  ).toBeGreaterThan(0);
  expect(cluster.invariantViolations()).toEqual([]);
  expect(
    cluster.heartbeats?.history.length,
    'the heartbeat monitor saw no leader write',
  ).toBeGreaterThan(0);
}
