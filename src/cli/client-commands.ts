/**
 * The client CLI over the HTTP API of any replica: `thales request create|list|scale`,
 * `thales deploy`, `thales tasks`, `thales agents`. The replica comes from --api or THALES_API
 * (comma-separated: the first that answers is used), else from the running `thales dev`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../dev/index.js';

/** Usage lines of the client commands. */
export const CLIENT_USAGE = `request     create --id ID [--type SERVICE|WORKER|…] [--instances N] | list | scale ID N
  deploy      --request ID --id DEPLOY --command CMD [--arg A]… [--env K=V]… [--cpus C]
              [--memory-mb M] [--disk-mb D] [--ports N]
  tasks       list active tasks [--request ID] [--agent ID]
  agents      list agents, or: agents freeze|decommission|activate ID
              (client commands take --api http://host:port[,…] or THALES_API)`;

/** Where `thales dev` writes its replicas' URLs (read when no --api is given). */
export function devApiFile(): string {
  return path.join(repoRoot(), '.thales', 'dev', 'api-urls');
}

function apiUrls(flag: string | undefined): string[] {
  const given = flag ?? process.env.THALES_API;
  if (given)
    return given
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean);
  const file = devApiFile();
  if (existsSync(file)) return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  return ['http://127.0.0.1:7070'];
}

/** Calls the API on the first replica that answers; exits non-zero on an error answer. */
async function call(urls: string[], method: string, p: string, body?: unknown): Promise<unknown> {
  let lastErr: unknown;
  for (const base of urls) {
    let res: Response;
    try {
      res = await fetch(`${base}${p}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      lastErr = err;
      continue; // that replica is down: try the next
    }
    const json = (await res.json().catch(() => ({}))) as {
      error?: { code: string; message: string };
    };
    if (!res.ok) throw new Error(`${json.error?.code ?? res.status}: ${json.error?.message ?? ''}`);
    return json;
  }
  throw new Error(`no replica answered (${urls.join(', ')}): ${String(lastErr)}`);
}

const print = (v: unknown): void => void process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
const line = (s: string): void => void process.stdout.write(`${s}\n`);

/** `thales request …` */
export async function runRequestCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      api: { type: 'string' },
      id: { type: 'string' },
      type: { type: 'string', default: 'SERVICE' },
      instances: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  const urls = apiUrls(values.api);
  if (sub === 'create') {
    if (!values.id) throw new Error('request create: --id is required');
    const body: Record<string, unknown> = { id: values.id, requestType: values.type };
    if (values.instances !== undefined) body.instances = Number(values.instances);
    print(await call(urls, 'POST', '/api/requests', body));
  } else if (sub === 'list') {
    const list = (await call(urls, 'GET', '/api/requests')) as RequestRow[];
    if (values.json) return print(list);
    line('ID                    TYPE       STATE            INSTANCES  ACTIVE DEPLOY');
    for (const r of list) {
      line(
        `${r.request.id.padEnd(21)} ${r.request.requestType.padEnd(10)} ${r.state.padEnd(16)} ` +
          `${String(r.request.instances).padEnd(10)} ${r.activeDeploy?.id ?? '-'}`,
      );
    }
  } else if (sub === 'scale') {
    const [id, n] = positionals;
    if (!id || n === undefined) throw new Error('usage: thales request scale ID INSTANCES');
    print(await call(urls, 'PUT', `/api/requests/request/${id}/scale`, { instances: Number(n) }));
  } else throw new Error(`usage: thales ${CLIENT_USAGE.split('\n')[0] ?? ''}`);
}

interface RequestRow {
  request: { id: string; requestType: string; instances: number };
  state: string;
  activeDeploy?: { id: string };
}

/** `thales deploy …` */
export async function runDeployCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      api: { type: 'string' },
      request: { type: 'string' },
      id: { type: 'string' },
      command: { type: 'string' },
      arg: { type: 'string', multiple: true, default: [] },
      env: { type: 'string', multiple: true, default: [] },
      cpus: { type: 'string' },
      'memory-mb': { type: 'string' },
      'disk-mb': { type: 'string' },
      ports: { type: 'string' },
    },
    strict: true,
  });
  if (!values.request || !values.id || !values.command) {
    throw new Error('deploy: --request, --id and --command are required');
  }
  const resources: Record<string, number> = {};
  if (values.cpus) resources.cpus = Number(values.cpus);
  if (values['memory-mb']) resources.memoryMb = Number(values['memory-mb']);
  if (values['disk-mb']) resources.diskMb = Number(values['disk-mb']);
  if (values.ports) resources.numPorts = Number(values.ports);
  const env = Object.fromEntries(
    values.env.map((kv) => {
      const i = kv.indexOf('=');
      if (i <= 0) throw new Error(`deploy: --env ${kv}: expected KEY=VALUE`);
      return [kv.slice(0, i), kv.slice(i + 1)];
    }),
  );
  const deploy = {
    requestId: values.request,
    id: values.id,
    command: values.command,
    arguments: values.arg,
    env,
    resources,
  };
  print(await call(apiUrls(values.api), 'POST', '/api/deploys', { deploy }));
}

interface TaskRow {
  id: string;
  requestId: string;
  instanceNo: number;
  agentId: string;
  host: string;
  state: string;
  ports: number[];
}

/** `thales tasks` */
export async function runTasksCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      api: { type: 'string' },
      request: { type: 'string' },
      agent: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const p = values.agent ? `/api/tasks/active/agent/${values.agent}` : '/api/tasks/active';
  let tasks = (await call(apiUrls(values.api), 'GET', p)) as TaskRow[];
  if (values.request) tasks = tasks.filter((t) => t.requestId === values.request);
  if (values.json) return print(tasks);
  line('TASK                                              STATE          AGENT         PORTS');
  for (const t of tasks.sort((a, b) => a.id.localeCompare(b.id))) {
    line(`${t.id.padEnd(49)} ${t.state.padEnd(14)} ${t.agentId.padEnd(13)} ${t.ports.join(',')}`);
  }
}

/** `thales agents [freeze|decommission|activate ID]` */
export async function runAgentsCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { api: { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  const urls = apiUrls(values.api);
  const [action, id] = positionals;
  if (action) {
    if (!['freeze', 'decommission', 'activate'].includes(action) || !id) {
      throw new Error('usage: thales agents [freeze|decommission|activate ID]');
    }
    return print(await call(urls, 'POST', `/api/agents/agent/${id}/${action}`));
  }
  const agents = (await call(urls, 'GET', '/api/agents')) as {
    id: string;
    host: string;
    state: string;
    lostAt?: number;
    connected?: boolean;
    httpAddress: string;
  }[];
  if (values.json) return print(agents);
  line('AGENT            STATE            LOST   HTTP');
  for (const a of agents) {
    line(
      `${a.id.padEnd(16)} ${a.state.padEnd(16)} ${(a.lostAt ? 'yes' : 'no').padEnd(6)} ${a.httpAddress}`,
    );
  }
}
