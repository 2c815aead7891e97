/** Real `thales agent` processes attached to a test cluster, for the end-to-end task tests. */
import { findFreePortBlock } from '../../src/dev/index.js';
import {
  type AgentUnderTest,
  makeAgentWorkDir,
  processesWithTaskId,
  startAgentProcess,
} from './agent-process.js';
import type { TestCluster } from './cluster.js';
import { demoServicePath } from './lb-web-deploy.js';
import { anyUrl, callJson } from './tasks-cluster.js';

export { processesWithTaskId, type AgentUnderTest };

/** A real agent with its id and port range (distinct per agent: they share one host). */
export interface RealAgent extends AgentUnderTest {
  agentId: string;
  workDir: string;
  args: string[];
}

/** Starts a real agent against every replica of `cluster` (stopped, and its tasks killed, at the end). */
export async function startRealAgent(
  cluster: TestCluster,
  agentId: string,
  workDir = makeAgentWorkDir(),
): Promise<RealAgent> {
  // Task ports stay unbound until a task starts: a block no other agent or test holds.
  const begin = await findFreePortBlock(20);
  const schedulers = cluster.replicas.map((r) => `127.0.0.1:${r.grpcPort}`).join(',');
  const args = ['--agent-id', agentId, '--ports', `${begin}-${begin + 19}`, '--cpus', '2'];
  const agent = await startAgentProcess(workDir, schedulers, args);
  return { ...agent, agentId, workDir, args };
}

/** Restarts an agent process in place (same work dir, id, port and ports). */
export function restartRealAgent(agent: RealAgent): void {
  agent.proc.start();
}

export { demoServicePath };

/** Creates a SERVICE request running the demo service (one port per instance). */
export async function createDemoService(
  cluster: TestCluster,
  id: string,
  instances: number,
): Promise<void> {
  const url = anyUrl(cluster);
  const r = await callJson(`${url}/api/requests`, 'POST', {
    id,
    requestType: 'SERVICE',
    instances,
  });
  if (r.status !== 200) throw new Error(`create request: ${JSON.stringify(r.body)}`);
  const d = await callJson(`${url}/api/deploys`, 'POST', {
    deploy: {
      requestId: id,
      id: 'v1',
      command: process.execPath,
      arguments: [demoServicePath()],
      env: { GREETING: 'hello' },
      resources: { cpus: 0.1, memoryMb: 32, numPorts: 1 },
    },
  });
  if (d.status !== 200) throw new Error(`deploy: ${JSON.stringify(d.body)}`);
}

/** GETs the demo service of a task on its port; its answer names the task. */
export async function askDemo(port: number): Promise<{ taskId: string; pid: number } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2_000) });
    return (await res.json()) as { taskId: string; pid: number };
  } catch {
    return undefined;
  }
}
