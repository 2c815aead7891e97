/**
 * Invariants 3 and 4 as the agents live them: what really runs (processes alive in their
 * sandboxes), not what ZooKeeper says. A process the cluster forgot keeps running while its
 * agent is away — nobody can reach it then — so a duplicate or an over-commit counts only
 * while every agent involved is up and connected to a leader, and only once it has lasted
 * longer than `boundMs`: the time the cluster is allowed to reconcile (notice the task on
 * re-registration or in its periodic comparison, and kill it). A sampler cannot see two
 * machines at one instant, so some bound is needed; it is a parameter, not a tolerance for
 * tasks that are never killed.
 */
import type { AgentSample, SandboxTask } from '../observe/agent-sampler.js';
import type { Violation } from './types.js';

/** An episode of one condition, from its first to its last sample. */
interface Episode {
  first: number;
  last: number;
  detail: string;
  reported: boolean;
}

/** Groups samples into rounds (one sample of each agent, taken together). */
export function toRounds(samples: readonly AgentSample[], agents: number): AgentSample[][] {
  const rounds: AgentSample[][] = [];
  if (agents <= 0) return rounds;
  for (let i = 0; i + agents <= samples.length; i += agents)
    rounds.push(samples.slice(i, i + agents));
  return rounds;
}

/** The agent-side checks. */
export function checkAgentSamples(input: {
  samples: readonly AgentSample[];
  agents: readonly { id: string; cpus: number; memoryMb: number }[];
  tasks: ReadonlyMap<string, SandboxTask>;
  boundMs: number;
}): { violations: Violation[]; rounds: number; maxRunning: number } {
  const violations: Violation[] = [];
  const episodes = new Map<string, Episode>();
  const rounds = toRounds(input.samples, input.agents.length);
  let maxRunning = 0;
  for (const round of rounds) {
    const at = round[0]?.at ?? 0;
    const now = new Set<string>();
    const connected = new Map(round.map((s) => [s.agentId, s.connected]));
    maxRunning = Math.max(
      maxRunning,
      round.reduce((n, s) => n + s.running.length, 0),
    );
    for (const [key, detail] of [
      ...duplicates(round, input.tasks, connected),
      ...overCommits(round, input),
    ]) {
      now.add(key);
      const e = episodes.get(key) ?? { first: at, last: at, detail, reported: false };
      e.last = at;
      e.detail = detail;
      episodes.set(key, e);
      if (!e.reported && e.last - e.first > input.boundMs) {
        e.reported = true;
        violations.push({
          invariant: key.startsWith('3:') ? '3' : '4',
          check: key.startsWith('3:')
            ? 'agents-run-duplicate-instance'
            : 'agent-runs-over-capacity',
          at: e.first,
          message: `${detail}, for over ${input.boundMs} ms while every agent involved was connected`,
          evidence: { since: e.first, seenAt: at },
        });
      }
    }
    for (const key of [...episodes.keys()]) if (!now.has(key)) episodes.delete(key);
  }
  return { violations, rounds: rounds.length, maxRunning };
}

function duplicates(
  round: readonly AgentSample[],
  tasks: ReadonlyMap<string, SandboxTask>,
  connected: ReadonlyMap<string, boolean>,
): [string, string][] {
  const byKey = new Map<string, SandboxTask[]>();
  for (const s of round) {
    for (const id of s.running) {
      const t = tasks.get(id);
      if (!t) continue;
      const key = `${t.requestId}/${t.deployId}/${t.instanceNo}`;
      byKey.set(key, [...(byKey.get(key) ?? []), t]);
    }
  }
  const out: [string, string][] = [];
  for (const [key, list] of byKey) {
    if (list.length < 2 || !list.every((t) => connected.get(t.agentId))) continue;
    const ids = list.map((t) => `${t.taskId}@${t.agentId}`).sort();
    out.push([`3:${key}`, `${list.length} live processes of ${key}: ${ids.join(', ')}`]);
  }
  return out;
}

function overCommits(
  round: readonly AgentSample[],
  input: {
    agents: readonly { id: string; cpus: number; memoryMb: number }[];
    tasks: ReadonlyMap<string, SandboxTask>;
  },
): [string, string][] {
  const out: [string, string][] = [];
  for (const s of round) {
    const agent = input.agents.find((a) => a.id === s.agentId);
    if (!agent || !s.connected) continue;
    let cpus = 0;
    let memoryMb = 0;
    for (const id of s.running) {
      cpus += input.tasks.get(id)?.cpus ?? 0;
      memoryMb += input.tasks.get(id)?.memoryMb ?? 0;
    }
    if (cpus > agent.cpus + 1e-9 || memoryMb > agent.memoryMb + 1e-9) {
      out.push([
        `4:${s.agentId}`,
        `${s.agentId} runs ${s.running.length} tasks needing ${cpus.toFixed(2)} cpus / ${memoryMb} MB of ${agent.cpus} / ${agent.memoryMb}`,
      ]);
    }
  }
  return out;
}
