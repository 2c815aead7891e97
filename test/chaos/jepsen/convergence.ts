/**
 * After the faults are healed and the clients stopped, the cluster must settle: one leader
 * agreed by every replica, every active task running on its agent and nothing else running
 * (the leader reconciles continuously — DESIGN.md), no kill intent left undrained nor any kill
 * decided but not carried out, and the lb-agent serving what `/lb/services` says. The wait is bounded; whatever is still wrong at
 * its end is reported.
 */
import type { Coordinator } from '../../../src/coordination/index.js';
import type { ChaosCluster } from './cluster/chaos-cluster.js';
import type { Convergence } from './check/index.js';
import type { AgentSampler } from './observe/agent-sampler.js';
import type { LbSampler } from './observe/lb-sampler.js';
import { childrenOf } from './zk/zk-reader.js';

interface ActiveDoc {
  taskId: string;
  agentId: string;
  state: string;
  killReason?: string;
}

/** What is not yet settled (empty when everything is). */
export async function unsettled(
  cluster: ChaosCluster,
  zk: Coordinator,
  sampler: AgentSampler,
  lb: LbSampler,
  serviceId: string,
): Promise<string[]> {
  const problems: string[] = [];
  if (!(await cluster.leader())) problems.push('no leader agreed by the replicas');
  const active = await readActive(zk);
  await sampler.sampleAll();
  const rounds = sampler.samples.slice(-cluster.agents.length);
  const running = new Map<string, string>();
  for (const s of rounds) for (const id of s.running) running.set(id, s.agentId);
  for (const t of active) {
    if (t.killReason !== undefined)
      problems.push(`${t.taskId}'s kill (${t.killReason}) is not done`);
    else if (t.state !== 'TASK_RUNNING') problems.push(`active task ${t.taskId} is ${t.state}`);
    else if (running.get(t.taskId) !== t.agentId)
      problems.push(`active task ${t.taskId} is not running on ${t.agentId}`);
  }
  const activeIds = new Set(active.map((t) => t.taskId));
  for (const [id, agentId] of running) {
    if (!activeIds.has(id)) problems.push(`${agentId} runs ${id}, which is not active`);
  }
  const intents = await childrenOf(zk, '/intents/kill-task');
  if (intents.length > 0) problems.push(`kill intents not drained: ${intents.join(', ')}`);
  const service = await zk.getOrNull(`/lb/services/${serviceId}`);
  const stored = service
    ? (
        (JSON.parse(service.data.toString()) as { upstreams: { upstream: string }[] }).upstreams ??
        []
      )
        .map((u) => u.upstream)
        .sort()
    : [];
  const served = [...(lb.sample().members ?? [])].sort();
  if (stored.join(' ') !== served.join(' ')) {
    problems.push(
      `lb-agent serves [${served.join(' ')}], /lb/services/${serviceId} says [${stored.join(' ')}]`,
    );
  }
  return problems;
}

async function readActive(zk: Coordinator): Promise<ActiveDoc[]> {
  const out: ActiveDoc[] = [];
  for (const rid of await childrenOf(zk, '/tasks/active')) {
    for (const id of await childrenOf(zk, `/tasks/active/${rid}`)) {
      const node = await zk.getOrNull(`/tasks/active/${rid}/${id}`);
      if (node) out.push(JSON.parse(node.data.toString()) as ActiveDoc);
    }
  }
  return out;
}

/** Waits up to `timeoutMs` for {@link unsettled} to find nothing. */
export async function awaitConvergence(
  check: () => Promise<string[]>,
  timeoutMs: number,
): Promise<Convergence> {
  const started = Date.now();
  let problems: string[] = ['not checked yet'];
  while (Date.now() - started < timeoutMs) {
    try {
      problems = await check();
    } catch (err) {
      problems = [`could not check: ${String(err)}`];
    }
    if (problems.length === 0) return { converged: true, waitedMs: Date.now() - started, problems };
    await new Promise((r) => setTimeout(r, 1_000));
  }
  return { converged: false, waitedMs: Date.now() - started, problems };
}
