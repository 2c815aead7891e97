/**
 * Invariants 3 and 4 on every state ZooKeeper held: after each committed transaction, no two
 * active tasks (`/tasks/active/<request>/<task>`) share request, deploy and instance number,
 * and no agent's active tasks need more cpus, memory or disk than it registered, or share a
 * port, or use a port outside its ranges. The same pass keeps each task's timeline (created,
 * running, kill decided, ended), which the routing and cleanup checks use.
 */
import type { ReplayStep, TreeReplay } from '../zk/replay.js';
import { jsonOf } from '../zk/replay.js';
import { hex } from './leader-fencing.js';
import type { ReplayVisitor, Violation } from './types.js';

/** The fields of an active task's znode the checks read. */
interface TaskDoc {
  taskId: string;
  requestId: string;
  deployId: string;
  instanceNo: number;
  agentId: string;
  host: string;
  ports: number[];
  resources: { cpus: number; memoryMb: number; diskMb: number };
  state: string;
  killReason?: string;
}

/** A task's life as ZooKeeper recorded it (times are the committing transactions'). */
export interface TaskTimeline extends Omit<TaskDoc, 'state' | 'killReason'> {
  createdAt: number;
  /** First commit with state TASK_RUNNING. */
  runningAt?: number;
  /** First commit carrying a kill reason. */
  killDecidedAt?: number;
  /** When it left `/tasks/active`, and in which state. */
  endedAt?: number;
  endState?: string;
}

interface AgentDoc {
  resources: { cpus: number; memoryMb: number; diskMb: number };
  portRanges: { begin: number; end: number }[];
}

const ACTIVE = /^\/tasks\/active\/[^/]+\/([^/]+)$/;
const AGENT = /^\/agents\/([^/]+)$/;
const EPSILON = 1e-9;

/** The invariant 3 and 4 pass over ZooKeeper's states. */
export class ActiveTasksCheck implements ReplayVisitor {
  readonly violations: Violation[] = [];
  readonly timelines = new Map<string, TaskTimeline>();
  private readonly active = new Map<string, TaskDoc>();
  private readonly agents = new Map<string, AgentDoc>();
  /** Keys already reported, so a lasting violation is reported once. */
  private readonly reported = new Set<string>();
  /** Most tasks active at once (evidence the check saw load). */
  maxActive = 0;

  onStep(step: ReplayStep, _tree: TreeReplay): void {
    const touched = new Set<string>();
    let tasksChanged = false;
    for (const a of step.applied) {
      const agent = AGENT.exec(a.path);
      if (agent && a.after) {
        const doc = jsonOf<AgentDoc>(a.after);
        if (doc?.resources) this.agents.set(agent[1] as string, doc);
        touched.add(agent[1] as string);
      }
      const m = ACTIVE.exec(a.path);
      if (!m) continue;
      const taskId = m[1] as string;
      tasksChanged = true;
      if (a.kind === 'delete') {
        const gone = this.active.get(taskId);
        this.active.delete(taskId);
        const t = this.timelines.get(taskId);
        if (t) {
          t.endedAt = step.txn.time;
          if (gone) t.endState = gone.state;
        }
        if (gone) touched.add(gone.agentId);
        continue;
      }
      const doc = jsonOf<TaskDoc>(a.after);
      if (!doc) continue;
      this.active.set(taskId, doc);
      touched.add(doc.agentId);
      this.track(doc, step.txn.time);
    }
    this.maxActive = Math.max(this.maxActive, this.active.size);
    if (tasksChanged) this.checkInstances(step);
    for (const agentId of touched) this.checkAgent(agentId, step);
  }

  private track(doc: TaskDoc, at: number): void {
    let t = this.timelines.get(doc.taskId);
    if (!t) {
      t = {
        taskId: doc.taskId,
        requestId: doc.requestId,
        deployId: doc.deployId,
        instanceNo: doc.instanceNo,
        agentId: doc.agentId,
        host: doc.host,
        ports: doc.ports,
        resources: doc.resources,
        createdAt: at,
      };
      this.timelines.set(doc.taskId, t);
    }
    if (doc.state === 'TASK_RUNNING') t.runningAt ??= at;
    if (doc.killReason !== undefined) t.killDecidedAt ??= at;
  }

  private checkInstances(step: ReplayStep): void {
    const holders = new Map<string, string[]>();
    for (const t of this.active.values()) {
      const key = `${t.requestId}/${t.deployId}/${t.instanceNo}`;
      holders.set(key, [...(holders.get(key) ?? []), t.taskId]);
    }
    for (const [key, ids] of holders) {
      if (ids.length < 2) continue;
      this.report(`3:${ids.sort().join(',')}`, {
        invariant: '3',
        check: 'duplicate-active-instance',
        at: step.txn.time,
        message: `${ids.length} active tasks hold ${key}: ${ids.join(', ')}`,
        evidence: { zxid: hex(step.txn.zxid) },
      });
    }
  }

  private checkAgent(agentId: string, step: ReplayStep): void {
    const agent = this.agents.get(agentId);
    if (!agent) return;
    const tasks = [...this.active.values()].filter((t) => t.agentId === agentId);
    const used = { cpus: 0, memoryMb: 0, diskMb: 0 };
    const ports = new Map<number, string>();
    for (const t of tasks) {
      used.cpus += t.resources.cpus;
      used.memoryMb += t.resources.memoryMb;
      used.diskMb += t.resources.diskMb;
      for (const p of t.ports) {
        const other = ports.get(p);
        if (other) this.reportPort(agentId, p, [other, t.taskId], step);
        ports.set(p, t.taskId);
        if (!agent.portRanges.some((r) => p >= r.begin && p <= r.end)) {
          this.report(`4:range:${t.taskId}:${p}`, {
            invariant: '4',
            check: 'port-outside-agent-ranges',
            at: step.txn.time,
            message: `${t.taskId} holds port ${p}, outside ${agentId}'s ranges`,
          });
        }
      }
    }
    for (const r of ['cpus', 'memoryMb', 'diskMb'] as const) {
      if (used[r] > agent.resources[r] + EPSILON) {
        this.report(
          `4:${agentId}:${r}:${tasks
            .map((t) => t.taskId)
            .sort()
            .join(',')}`,
          {
            invariant: '4',
            check: 'agent-over-committed',
            at: step.txn.time,
            message: `${agentId}'s active tasks need ${used[r]} ${r} of ${agent.resources[r]}`,
            evidence: { zxid: hex(step.txn.zxid), tasks: tasks.map((t) => t.taskId) },
          },
        );
      }
    }
  }

  private reportPort(agentId: string, port: number, ids: string[], step: ReplayStep): void {
    this.report(`4:port:${agentId}:${port}:${ids.sort().join(',')}`, {
      invariant: '4',
      check: 'port-given-twice',
      at: step.txn.time,
      message: `${ids.join(' and ')} both hold port ${port} on ${agentId}`,
      evidence: { zxid: hex(step.txn.zxid) },
    });
  }

  private report(key: string, v: Violation): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.violations.push(v);
  }
}
