/**
 * Which tasks of decommissioning agents to kill now (the pure rule; the cycle carries it
 * out). An agent's tasks are moved one at a time per request: the next one goes only when
 * none of the request's tasks is being killed and every task it runs elsewhere serves —
 * running and, for a load-balanced request, in every load balancer — so a request keeps
 * serving while its instances move (invariant 3 rules out starting the replacement first:
 * it has the same instance number). Killing every task of the agent at once left a
 * load-balanced service whose instances all ran there with no upstream at all.
 */

/** An active task of a request that has some task on a decommissioning agent. */
export interface EvacuationTask {
  taskId: string;
  requestId: string;
  /** On an agent being decommissioned. */
  leaving: boolean;
  /** A kill was decided (held or sent). */
  killing: boolean;
  /** Running and, for a load-balanced request, in every load balancer. */
  serving: boolean;
}

/** The tasks to kill now: at most one per request. */
export function planEvacuation(tasks: readonly EvacuationTask[]): string[] {
  const byRequest = new Map<string, EvacuationTask[]>();
  for (const t of tasks) {
    const list = byRequest.get(t.requestId) ?? [];
    list.push(t);
    byRequest.set(t.requestId, list);
  }
  const out: string[] = [];
  for (const list of byRequest.values()) {
    if (list.some((t) => t.killing)) continue;
    if (list.some((t) => !t.leaving && !t.serving)) continue;
    const next = list.find((t) => t.leaving);
    if (next) out.push(next.taskId);
  }
  return out;
}
