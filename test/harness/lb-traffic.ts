/** A client sending requests through nginx lb-agents for the whole of a test's change. */
import { httpGet } from './lb-cluster.js';

/** One answer seen through nginx. */
export interface TrafficAnswer {
  at: number;
  nginxPort: number;
  status: number;
  /** The task that answered (the demo service's `taskId`), if the body said. */
  taskId?: string;
  error?: string;
}

/** A running client; `stop()` returns every answer it saw. */
export interface TrafficClient {
  /** Answers so far. */
  readonly answers: readonly TrafficAnswer[];
  failures(): TrafficAnswer[];
  stop(): Promise<TrafficAnswer[]>;
}

/**
 * One GET of `pathname` through nginx on `nginxPort`, on a fresh connection, as an answer: its
 * status and the task that answered, or status 0 and the error for a connection failure.
 */
export async function getOnce(nginxPort: number, pathname: string): Promise<TrafficAnswer> {
  const at = Date.now();
  try {
    const r = await httpGet(nginxPort, pathname);
    const answer: TrafficAnswer = { at, nginxPort, status: r.status };
    try {
      const body = JSON.parse(r.body) as { taskId?: string };
      if (body.taskId) answer.taskId = body.taskId;
    } catch {
      /* not the demo service's JSON: the status says enough */
    }
    return answer;
  } catch (err) {
    return { at, nginxPort, status: 0, error: String(err) };
  }
}

/** The failures among `answers`: a non-200 answer or a connection error. */
export function failuresOf(answers: readonly TrafficAnswer[]): TrafficAnswer[] {
  return answers.filter((a) => a.status !== 200);
}

/**
 * Sends GETs to `pathname` through each nginx port in turn, one at a time per port, every
 * `intervalMs`, each on a fresh connection (so every request sees nginx's current config).
 * A non-200 answer or a connection error is a failure.
 */
export function startTraffic(
  nginxPorts: readonly number[],
  pathname: string,
  intervalMs = 20,
): TrafficClient {
  const answers: TrafficAnswer[] = [];
  let running = true;
  const loop = async (nginxPort: number): Promise<void> => {
    while (running) {
      answers.push(await getOnce(nginxPort, pathname));
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  };
  const loops = nginxPorts.map((p) => loop(p));
  return {
    answers,
    failures: () => failuresOf(answers),
    async stop() {
      running = false;
      await Promise.all(loops);
      return answers;
    },
  };
}

/**
 * An open-loop client: `perSecond` GETs a second in all, sent on schedule whether or not
 * earlier ones answered (a slow nginx does not slow the load down), alternating between the
 * nginx ports, each on a fresh connection. A non-200 answer or a connection error is a failure.
 */
export function startPacedTraffic(
  nginxPorts: readonly number[],
  pathname: string,
  perSecond: number,
): TrafficClient {
  const answers: TrafficAnswer[] = [];
  const inFlight = new Set<Promise<void>>();
  const started = Date.now();
  let sent = 0;
  const send = (nginxPort: number): void => {
    const done = getOnce(nginxPort, pathname).then((a) => void answers.push(a));
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  };
  // A 5 ms tick catches up on what is due, so timer lateness on a loaded host costs no requests.
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - started) * perSecond) / 1000);
    for (; sent < due; sent++) send(nginxPorts[sent % nginxPorts.length] as number);
  }, 5);
  return {
    answers,
    failures: () => failuresOf(answers),
    async stop() {
      clearInterval(timer);
      await Promise.all([...inFlight]);
      return answers;
    },
  };
}
