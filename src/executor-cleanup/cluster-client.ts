import { z } from 'zod';
import type { ClusterAnswer } from './cleanup-plan.js';

/** Singularity's task id is an object with `id`; Thales also accepts a plain string. */
const activeTaskSchema = z.looseObject({
  taskId: z.union([z.string().min(1), z.looseObject({ id: z.string().min(1) })]),
});
const activeTasksSchema = z.array(activeTaskSchema);

const agentSchema = z.looseObject({
  agentId: z.string().optional(),
  id: z.string().optional(),
  state: z.string().optional(),
  currentState: z.looseObject({ state: z.string() }).optional(),
});

/** Options of {@link askCluster}. */
export interface ClusterClientOptions {
  /** Base URLs of the replicas' HTTP APIs (`http://host:port`), tried in turn. */
  replicas: readonly string[];
  agentId: string;
  timeoutMs: number;
}

/** A replica's answer that could not be used, and why. */
type Attempt =
  | { ok: true; answer: ClusterAnswer }
  | { ok: false; malformed: boolean; why: string; retryable?: boolean };

/**
 * Asks the replicas, one after the other, which tasks are active on this agent
 * (`GET /api/tasks/active/agent/{agentId}`) and the agent's state (`GET /api/agents`). The
 * first well-formed answer wins. Every replica down → `unreachable`; none well-formed but
 * some malformed → `malformed`. Never throws.
 */
export async function askCluster(o: ClusterClientOptions): Promise<ClusterAnswer> {
  const errors: string[] = [];
  let malformed: ClusterAnswer | undefined;
  for (const base of o.replicas) {
    let attempt = await askReplica(base.replace(/\/+$/, ''), o);
    // A pooled keep-alive connection the replica closed while idle fails once: retry it.
    if (!attempt.ok && attempt.retryable) attempt = await askReplica(base.replace(/\/+$/, ''), o);
    if (attempt.ok) return attempt.answer;
    errors.push(`${base}: ${attempt.why}`);
    if (attempt.malformed && !malformed)
      malformed = { kind: 'malformed', replica: base, reason: attempt.why };
  }
  return malformed ?? { kind: 'unreachable', errors };
}

async function askReplica(base: string, o: ClusterClientOptions): Promise<Attempt> {
  const url = `${base}/api/tasks/active/agent/${encodeURIComponent(o.agentId)}`;
  let body: unknown;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(o.timeoutMs) });
    if (!res.ok) return { ok: false, malformed: false, why: `HTTP ${res.status}` };
    const text = await res.text();
    try {
      body = JSON.parse(text);
    } catch {
      return { ok: false, malformed: true, why: 'the body is not JSON' };
    }
  } catch (err) {
    const why = describeFetchError(err);
    return { ok: false, malformed: false, why, retryable: /ECONNRESET|EPIPE|socket/i.test(why) };
  }
  const parsed = activeTasksSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || '(root)';
    return { ok: false, malformed: true, why: `${where}: ${issue?.message ?? 'invalid'}` };
  }
  const activeTaskIds = new Set(
    parsed.data.map((t) => (typeof t.taskId === 'string' ? t.taskId : t.taskId.id)),
  );
  const agentState = await askAgentState(base, o);
  return {
    ok: true,
    answer: { kind: 'ok', replica: base, activeTaskIds, ...(agentState ? { agentState } : {}) },
  };
}

/** The agent's administrative state, or undefined if the replica cannot tell. */
async function askAgentState(base: string, o: ClusterClientOptions): Promise<string | undefined> {
  try {
    const res = await fetch(`${base}/api/agents`, { signal: AbortSignal.timeout(o.timeoutMs) });
    if (!res.ok) return undefined;
    const agents = z.array(agentSchema).safeParse(await res.json());
    if (!agents.success) return undefined;
    const me = agents.data.find((a) => (a.agentId ?? a.id) === o.agentId);
    return me?.state ?? me?.currentState?.state;
  } catch {
    return undefined;
  }
}

function describeFetchError(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (err.name === 'TimeoutError') return 'timed out';
    return cause?.code ?? cause?.message ?? err.message;
  }
  return String(err);
}
