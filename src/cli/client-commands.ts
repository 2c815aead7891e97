/**
 * The client commands over the HTTP API of any replica: `thales state`, `thales request …`,
 * `thales deploy`, `thales tasks`, `thales agents …`. Every one finds the cluster the same way
 * ({@link discoverApi}), prints json or a table (`--output`), and exits with the codes of
 * `exit-codes.ts`.
 */
import type { Command } from 'commander';
import {
  type ClientOptions,
  amount,
  clientCommand,
  clientOf,
  count,
  formatOf,
  readQuery,
  seg,
} from './client-command.js';
import { CliError, EXIT } from './exit-codes.js';
import { readDeployFile, waitForDeploy } from './deploy-wait.js';
import { printJson, printList } from './output.js';
import { addBounceCommand, addScheduledCommand } from './scheduling-commands.js';

interface RequestRow {
  request: { id: string; requestType: string; instances: number };
  state: string;
  activeDeploy?: { id: string };
  pendingDeploy?: { id: string };
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

interface AgentRow {
  id: string;
  host: string;
  state: string;
  lostAt?: number;
  connected?: boolean;
  httpAddress: string;
}

interface StateView {
  replicaId: string;
  role: string;
  term: number;
  view: string;
  leader: { replicaId: string } | null;
  replicas: {
    replicaId: string;
    role: string;
    version: string;
    httpAddress: string;
    grpcAddress: string;
  }[];
}

/** Registers `state`, `request`, `deploy`, `tasks` and `agents` on `program`. */
export function addClientCommands(program: Command): void {
  addStateCommand(program);
  addRequestCommands(program);
  addDeployCommand(program);
  addTasksCommand(program);
  addAgentsCommand(program);
}

function addStateCommand(program: Command): void {
  clientCommand(program, 'state', "print a replica's view of the cluster", 'json').action(
    async (options: ClientOptions) => {
      const state = await clientOf(options).call<StateView>('GET', '/api/state');
      if (options.output === 'json') return printJson(state);
      process.stdout.write(
        `replica ${state.replicaId} (${state.role}, view ${state.view}), term ${state.term}, ` +
          `leader ${state.leader?.replicaId ?? 'none'}\n`,
      );
      printList(state.replicas, 'table', {
        head: ['REPLICA', 'ROLE', 'VERSION', 'HTTP', 'GRPC'],
        row: (replica) => [
          replica.replicaId,
          replica.role,
          replica.version,
          replica.httpAddress,
          replica.grpcAddress,
        ],
      });
    },
  );
}

function addRequestCommands(program: Command): void {
  const request = program
    .command('request')
    .description('create, list, scale, pause and delete requests');
  clientCommand(request, 'create', 'create or update a request', 'json')
    .requiredOption('--id <id>', 'request id')
    .option('--type <type>', 'SERVICE, WORKER, SCHEDULED, ON_DEMAND or RUN_ONCE', 'SERVICE')
    .option('--instances <n>', 'instances to run', count('--instances'))
    .action(async (options: ClientOptions & { id: string; type: string; instances?: number }) => {
      const body: Record<string, unknown> = { id: options.id, requestType: options.type };
      if (options.instances !== undefined) body.instances = options.instances;
      printJson(await clientOf(options).call('POST', '/api/requests', body));
    });
  clientCommand(request, 'list', 'list requests and their deploys', 'table', true).action(
    async (options: ClientOptions) => {
      const rows = await clientOf(options).call<RequestRow[]>(
        'GET',
        `/api/requests${readQuery(options)}`,
      );
      printList(rows, formatOf(options), {
        head: ['ID', 'TYPE', 'STATE', 'INSTANCES', 'ACTIVE DEPLOY', 'PENDING DEPLOY'],
        row: (row) => [
          row.request.id,
          row.request.requestType,
          row.state,
          row.request.instances,
          row.activeDeploy?.id ?? '-',
          row.pendingDeploy?.id ?? '-',
        ],
      });
    },
  );
  clientCommand(request, 'get', 'show one request with its deploys', 'json', true)
    .argument('<id>', 'request id')
    .action(async (id: string, options: ClientOptions) => {
      printJson(
        await clientOf(options).call(
          'GET',
          `/api/requests/request/${seg(id)}${readQuery(options)}`,
        ),
      );
    });
  clientCommand(request, 'scale', 'set the number of instances', 'json')
    .argument('<id>', 'request id')
    .argument('<instances>', 'instances to run', count('instances'))
    .action(async (id: string, instances: number, options: ClientOptions) => {
      const path = `/api/requests/request/${seg(id)}/scale`;
      printJson(await clientOf(options).call('PUT', path, { instances }));
    });
  for (const [action, description] of [
    ['pause', 'pause a request (its tasks are killed)'],
    ['unpause', 'unpause a request'],
    ['delete', 'delete a request (its tasks are killed first)'],
  ] as const) {
    clientCommand(request, action, description, 'json')
      .argument('<id>', 'request id')
      .option('--message <text>', 'why, kept with the request')
      .action(async (id: string, options: ClientOptions & { message?: string }) => {
        const body = options.message ? { message: options.message } : undefined;
        const client = clientOf(options);
        printJson(
          action === 'delete'
            ? await client.call('DELETE', `/api/requests/request/${seg(id)}`, body)
            : await client.call('POST', `/api/requests/request/${seg(id)}/${action}`, body),
        );
      });
  }
  addBounceCommand(request);
}

function addDeployCommand(program: Command): void {
  const collect = (value: string, previous: string[]): string[] => [...previous, value];
  clientCommand(program, 'deploy', 'deploy a command to a request', 'json')
    .option('--file <deploy.json>', "Singularity's deploy JSON (the flags below then unused)")
    .option('--wait', 'wait for the result, showing progress; non-zero exit unless SUCCEEDED')
    .option('--request <id>', 'request id (required without --file)')
    .option('--id <deployId>', 'deploy id (letters, digits, _ and .)')
    .option('--command <cmd>', 'the command to run')
    .option('--arg <arg>', 'an argument (repeat for more; none: run with sh -c)', collect, [])
    .option('--env <KEY=VALUE>', 'an environment variable (repeat for more)', collect, [])
    .option('--cpus <n>', 'cpus per instance', amount('--cpus'))
    .option('--memory-mb <n>', 'memory per instance', amount('--memory-mb'))
    .option('--disk-mb <n>', 'disk per instance', amount('--disk-mb'))
    .option('--ports <n>', 'ports per instance', count('--ports'))
    .action(async (options: ClientOptions & DeployOptions) => {
      const body = options.file ? readDeployFile(options.file) : { deploy: deployOf(options) };
      const client = clientOf(options);
      const answer = await client.call('POST', '/api/deploys', body);
      if (!options.wait) return printJson(answer);
      const deploy = body.deploy as { requestId?: unknown; id?: unknown };
      const done = await waitForDeploy(client, String(deploy.requestId), String(deploy.id));
      printJson(done.deploy);
      process.exitCode = done.exitCode;
    });
}

/** The deploy the flags describe (without --file, --request, --id and --command are needed). */
function deployOf(options: DeployOptions): Record<string, unknown> {
  for (const flag of ['request', 'id', 'command'] as const) {
    if (!options[flag]) throw new CliError(`--${flag} is required without --file`, EXIT.USAGE);
  }
  return {
    requestId: options.request,
    id: options.id,
    command: options.command,
    arguments: options.arg,
    env: Object.fromEntries(options.env.map(toEnvPair)),
    resources: resourcesOf(options),
  };
}

interface DeployOptions {
  file?: string;
  wait?: boolean;
  request?: string;
  id?: string;
  command?: string;
  arg: string[];
  env: string[];
  cpus?: number;
  memoryMb?: number;
  diskMb?: number;
  ports?: number;
}

function toEnvPair(pair: string): [string, string] {
  const i = pair.indexOf('=');
  if (i <= 0) throw new CliError(`--env ${pair}: expected KEY=VALUE`, EXIT.USAGE);
  return [pair.slice(0, i), pair.slice(i + 1)];
}

function resourcesOf(options: DeployOptions): Record<string, number> {
  const resources: Record<string, number> = {};
  if (options.cpus !== undefined) resources.cpus = options.cpus;
  if (options.memoryMb !== undefined) resources.memoryMb = options.memoryMb;
  if (options.diskMb !== undefined) resources.diskMb = options.diskMb;
  if (options.ports !== undefined) resources.numPorts = options.ports;
  return resources;
}

function addTasksCommand(program: Command): void {
  const tasks = clientCommand(program, 'tasks', 'list active tasks', 'table', true)
    .option('--request <id>', 'only the tasks of this request')
    .option('--agent <id>', 'only the tasks on this agent')
    .action(async (options: ClientOptions & { request?: string; agent?: string }) => {
      const path = options.agent
        ? `/api/tasks/active/agent/${seg(options.agent)}`
        : '/api/tasks/active';
      let tasks = await clientOf(options).call<TaskRow[]>('GET', `${path}${readQuery(options)}`);
      if (options.request) tasks = tasks.filter((task) => task.requestId === options.request);
      tasks.sort((a, b) => a.id.localeCompare(b.id));
      printList(tasks, formatOf(options), {
        head: ['TASK', 'STATE', 'AGENT', 'PORTS'],
        row: (task) => [task.id, task.state, task.agentId, task.ports.join(',') || '-'],
      });
    });
  addScheduledCommand(tasks);
}

function addAgentsCommand(program: Command): void {
  const agents = clientCommand(
    program,
    'agents',
    'list agents, or freeze, decommission or activate one',
    'table',
    true,
  ).action(async (options: ClientOptions) => {
    const rows = await clientOf(options).call<AgentRow[]>(
      'GET',
      `/api/agents${readQuery(options)}`,
    );
    printList(rows, formatOf(options), {
      head: ['AGENT', 'STATE', 'LOST', 'CONNECTED', 'HTTP'],
      row: (agent) => [
        agent.id,
        agent.state,
        agent.lostAt ? 'yes' : 'no',
        agent.connected === undefined ? '?' : agent.connected ? 'yes' : 'no',
        agent.httpAddress || '-',
      ],
    });
  });
  for (const action of ['freeze', 'decommission', 'activate'] as const) {
    clientCommand(agents, action, `${action} an agent`, 'json')
      .argument('<id>', 'agent id')
      .action(async (id: string, options: ClientOptions) => {
        printJson(await clientOf(options).call('POST', `/api/agents/agent/${seg(id)}/${action}`));
      });
  }
}
