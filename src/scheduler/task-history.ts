/**
 * Each request's task history as the leader knows it (task ids, oldest first), to keep it
 * bounded: ending a task adds its id, and the oldest beyond the bound are removed in the same
 * multi. Compaction is planned on a draft and becomes the known list only once the multi has
 * committed, so a failed write changes nothing here either.
 */
import type { ZkOp } from '../coordination/index.js';
import { MAX_HISTORY_PER_REQUEST, type Task, removeHistoryOp } from '../state/index.js';

/** Pure: `names` with `added` appended, and the oldest beyond `max` split off. */
export function compactHistory(
  names: readonly string[],
  added: string,
  max: number,
): { kept: string[]; removed: string[] } {
  const all = names.includes(added) ? [...names] : [...names, added];
  const excess = Math.max(0, all.length - max);
  return { kept: all.slice(excess), removed: all.slice(0, excess) };
}

/** The launch time inside a task id (`…-<launchMs>-<instanceNo>-<agentId>`), best effort. */
export function launchMsOf(taskId: string): number {
  const m = /-(\d{12,})-\d+-/.exec(taskId);
  return m ? Number(m[1]) : 0;
}

/** The known histories, loaded per request on first use. */
export class TaskHistoryIndex {
  private readonly lists = new Map<string, string[]>();

  constructor(
    /** The task ids in a request's history in ZooKeeper (any order). */
    private readonly load: (requestId: string) => Promise<string[]>,
    private readonly max = MAX_HISTORY_PER_REQUEST,
  ) {}

  /** The known history of a request (a copy), oldest first; loads it if needed. */
  async list(requestId: string): Promise<string[]> {
    let names = this.lists.get(requestId);
    if (!names) {
      names = (await this.load(requestId)).sort((a, b) => launchMsOf(a) - launchMsOf(b));
      this.lists.set(requestId, names);
    }
    return [...names];
  }

  /** A draft for one write: plans removals against the lists, changes nothing yet. */
  draft(): HistoryDraft {
    return new HistoryDraft(this, this.max);
  }

  /** Makes a committed draft's lists the known ones. */
  adopt(lists: ReadonlyMap<string, string[]>): void {
    for (const [requestId, names] of lists) this.lists.set(requestId, names);
  }
}

/** The history changes of one multi; {@link HistoryDraft.commit} once it has committed. */
export class HistoryDraft {
  private readonly lists = new Map<string, string[]>();

  constructor(
    private readonly index: TaskHistoryIndex,
    private readonly max: number,
  ) {}

  /** Adds an ended task; returns the ops removing what falls off its request's history. */
  async add(task: Task): Promise<ZkOp[]> {
    const names = this.lists.get(task.requestId) ?? (await this.index.list(task.requestId));
    const { kept, removed } = compactHistory(names, task.taskId, this.max);
    this.lists.set(task.requestId, kept);
    return removed.map((id) => removeHistoryOp(task.requestId, id));
  }

  /** Adds an ended task whose history entry was written without compaction. */
  async record(task: Task): Promise<void> {
    const names = this.lists.get(task.requestId) ?? (await this.index.list(task.requestId));
    if (!names.includes(task.taskId)) names.push(task.taskId);
    this.lists.set(task.requestId, names);
  }

  /** The write committed: these are the histories now. */
  commit(): void {
    this.index.adopt(this.lists);
  }
}
