/**
 * A TEST DOUBLE of the scheduler replicas' HTTP API, for executor-cleanup tests: serves only
 * `GET /api/tasks/active/agent/{agentId}` (and the `slave` alias) and `GET /api/agents`, with
 * answers the test sets (a task list, a malformed body, an HTTP error). The cleaner is also
 * tested against real replicas (cleanup-replicas.test.ts); this double makes the cluster's
 * answer a controlled input.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

/** What the double answers for the active tasks route. */
export type DoubleAnswer =
  { kind: 'tasks'; taskIds: string[] } | { kind: 'raw'; status: number; body: string };

/** A running double. */
export interface SchedulerDouble {
  url: string;
  /** Sets the answer of the active tasks route. */
  answer: DoubleAnswer;
  /** The agent state reported by /api/agents. */
  agentState: string;
  /** Requests served, by path. */
  requests: string[];
}

/** Starts a double on a free loopback port; closed when the test ends. */
export async function startSchedulerDouble(agentId: string): Promise<SchedulerDouble> {
  const double: SchedulerDouble = {
    url: '',
    answer: { kind: 'tasks', taskIds: [] },
    agentState: 'ACTIVE',
    requests: [],
  };
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    double.requests.push(url);
    const send = (status: number, body: string): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    };
    const m = /^\/api\/tasks\/active\/(?:agent|slave)\/([^/?]+)$/.exec(url);
    if (m) {
      const a = double.answer;
      if (a.kind === 'raw') return send(a.status, a.body);
      // Singularity's shape: taskId is an object with `id`, as the real replicas answer.
      const tasks = decodeURIComponent(m[1] ?? '') === agentId ? a.taskIds : [];
      return send(
        200,
        JSON.stringify(tasks.map((id) => ({ taskId: { id, agentId }, id, agentId }))),
      );
    }
    if (url === '/api/agents') {
      return send(200, JSON.stringify([{ agentId, id: agentId, state: double.agentState }]));
    }
    send(404, JSON.stringify({ error: { code: 'NOT_FOUND' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  double.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return double;
}
