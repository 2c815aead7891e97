/**
 * A whole Thales cluster installed by the real playbooks of deploy/ansible, on this one
 * machine: every inventory host gets its own directory (`thales_prefix`) and its own ports on
 * 127.0.0.1, `ansible_connection=local`, and the start-stop-daemon service backend (no
 * systemd here). Used by the upgrade test and `npm run bench -- upgrade`; free of vitest.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { findFreePorts, repoRoot } from '../../src/dev/index.js';
import { killProcessesUnder } from './process-sweep.js';

/** The inventory groups the playbooks know. */
export type AnsibleGroup = 'zookeeper' | 'schedulers' | 'agents' | 'lb_agents';

/** One inventory host of the one-machine cluster. */
export interface ClusterHost {
  name: string;
  group: AnsibleGroup;
  /** Its host vars (ports, ids, thales_prefix). */
  vars: Record<string, string | number>;
}

/** How many hosts of each group. */
export interface ClusterShape {
  zookeeper: number;
  schedulers: number;
  agents: number;
  lbAgents: number;
}

/** What a playbook run gave: its exit code and the log of everything it printed. */
export interface PlaybookRun {
  code: number;
  logFile: string;
  /** The last lines it printed (for an assertion message). */
  tail: string;
  seconds: number;
}

const ANSIBLE_DIR = (): string => path.join(repoRoot(), 'deploy', 'ansible');

/** The one-machine cluster: its inventory, its hosts' addresses, and playbook runs. */
export class AnsibleCluster {
  private runs = 0;
  /** The ansible-playbook running now, if any (destroy stops it first). */
  private playing: ChildProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly hosts: ClusterHost[],
    readonly inventoryDir: string,
    readonly lbGroup: string,
  ) {}

  /**
   * Writes an inventory for `shape` under `dir` (ports from the kernel, task port ranges below
   * the ephemeral range); nothing is started until a playbook runs.
   */
  static async create(dir: string, shape: ClusterShape): Promise<AnsibleCluster> {
    mkdirSync(dir, { recursive: true });
    const ports = await findFreePorts(
      shape.zookeeper * 3 + shape.schedulers * 2 + shape.agents * 2 + shape.lbAgents * 2,
    );
    const next = (): number => ports.shift() as number;
    const hosts: ClusterHost[] = [];
    // Each host its own loopback address (all of 127/8 is this machine's), as hosts of a real
    // network have; nginx and the demo service listen on 127.0.0.1 only (docs/deploy.md).
    const add = (group: AnsibleGroup, name: string, vars: Record<string, string | number>): void =>
      void hosts.push({
        name,
        group,
        vars: {
          thales_address: `127.0.0.${11 + hosts.length}`,
          thales_prefix: path.join(dir, name),
          ...vars,
        },
      });
    for (let i = 1; i <= shape.zookeeper; i++) {
      add('zookeeper', `zk-${i}`, {
        zookeeper_id: i,
        zookeeper_client_port: next(),
        zookeeper_quorum_port: next(),
        zookeeper_election_port: next(),
      });
    }
    for (let i = 1; i <= shape.schedulers; i++) {
      add('schedulers', `sched-${i}`, { scheduler_http_port: next(), scheduler_grpc_port: next() });
    }
    const taskPortBase = 20_000 + Math.floor(Math.random() * 450) * 20;
    for (let i = 1; i <= shape.agents; i++) {
      const begin = taskPortBase + (i - 1) * 10;
      add('agents', `agent-${i}`, {
        // Room for two demo tasks (0.1 cpus each) per agent: three spread over both agents.
        agent_cpus: 0.25,
        agent_memory_mb: 1024,
        agent_http_port: next(),
        executor_cleanup_metrics_port: next(),
        agent_task_ports: `${begin}-${begin + 9}`,
      });
    }
    for (let i = 1; i <= shape.lbAgents; i++) {
      add('lb_agents', `lb-${i}`, { lb_agent_nginx_port: next(), lb_agent_http_port: next() });
    }
    const lbGroup = 'edge';
    // An inventory directory, as inventories/qa is: the environment's settings must be in
    // group_vars/<env>.yml to win over the shared group_vars/all of the playbooks.
    const inventoryDir = path.join(dir, 'inventory');
    mkdirSync(path.join(inventoryDir, 'group_vars'), { recursive: true });
    writeFileSync(path.join(inventoryDir, 'hosts.yml'), renderHosts(hosts));
    writeFileSync(
      path.join(inventoryDir, 'group_vars', `${ENV_GROUP}.yml`),
      YAML.stringify(environmentVars(dir, lbGroup)),
    );
    return new AnsibleCluster(dir, hosts, inventoryDir, lbGroup);
  }

  /** Hosts of one group, in inventory order. */
  group(group: AnsibleGroup): ClusterHost[] {
    return this.hosts.filter((h) => h.group === group);
  }

  /** Base URLs of the scheduler replicas' HTTP APIs. */
  get schedulerUrls(): string[] {
    return this.group('schedulers').map(
      (h) => `http://${h.vars.thales_address}:${h.vars.scheduler_http_port}`,
    );
  }

  /** Base URLs of the agents' HTTP endpoints. */
  get agentUrls(): string[] {
    return this.group('agents').map(
      (h) => `http://${h.vars.thales_address}:${h.vars.agent_http_port}`,
    );
  }

  /** The first lb-agent's nginx (on 127.0.0.1: it has no listen-address flag) and endpoint. */
  get lb(): { nginxUrl: string; statusUrl: string } {
    const h = this.group('lb_agents')[0] as ClusterHost;
    return {
      nginxUrl: `http://127.0.0.1:${h.vars.lb_agent_nginx_port}`,
      statusUrl: `http://${h.vars.thales_address}:${h.vars.lb_agent_http_port}/status`,
    };
  }

  /** Where a host's releases are installed (`current`, `previous`, `releases/`). */
  installDir(host: ClusterHost): string {
    return path.join(host.vars.thales_prefix as string, 'opt', 'thales');
  }

  /** The pid file the supervisor keeps for `service` on `host`, and the pid in it. */
  servicePid(host: ClusterHost, service: string): number | undefined {
    const file = path.join(host.vars.thales_prefix as string, 'run', 'thales', `${service}.pid`);
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  /**
   * The release every supervised Thales process runs, from its working directory (the
   * service starts it in `current`, resolved at start: `releases/thales-<version>`).
   */
  processReleases(): { host: string; service: string; pid: number; release: string }[] {
    const out: { host: string; service: string; pid: number; release: string }[] = [];
    for (const host of this.hosts) {
      for (const service of SERVICES.filter((s) => s.startsWith('thales-'))) {
        const pid = this.servicePid(host, service);
        if (pid === undefined) continue;
        let release = 'not running';
        try {
          release = path.basename(readlinkSync(`/proc/${pid}/cwd`));
        } catch {
          // the pid file outlived its process
        }
        out.push({ host: host.name, service, pid, release });
      }
    }
    return out;
  }

  /**
   * Runs `ansible-playbook <playbook>` against this inventory from deploy/ansible (so its
   * ansible.cfg, roles and callback apply); output goes to a log file, progress lines also to
   * `onProgress`. Resolves with the exit code; never throws for a failed play.
   */
  runPlaybook(
    playbook: string,
    extraVars: Record<string, string>,
    onProgress: (line: string) => void = () => undefined,
    extraArgs: string[] = [],
  ): Promise<PlaybookRun> {
    const logFile = path.join(this.dir, `ansible-${++this.runs}-${path.basename(playbook)}.log`);
    const log = createWriteStream(logFile);
    const args = [
      '-i',
      this.inventoryDir,
      playbook,
      ...Object.entries(extraVars).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
      ...extraArgs,
    ];
    const started = Date.now();
    const child = spawn('ansible-playbook', args, {
      cwd: ANSIBLE_DIR(),
      env: {
        ...process.env,
        ANSIBLE_CONFIG: path.join(ANSIBLE_DIR(), 'ansible.cfg'),
        ANSIBLE_LOCAL_TEMP: path.join(this.dir, '.ansible-tmp'),
        ANSIBLE_REMOTE_TEMP: path.join(this.dir, '.ansible-remote-tmp'),
        ANSIBLE_FORCE_COLOR: '0',
        ANSIBLE_NOCOLOR: '1',
        PYTHONUNBUFFERED: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.playing = child;
    const lines: string[] = [];
    let partial = '';
    const onData = (chunk: Buffer): void => {
      log.write(chunk);
      const text = partial + chunk.toString();
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (lines.length > 60) lines.shift();
        if (line.startsWith('[progress')) onProgress(line);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => {
        if (this.playing === child) this.playing = undefined;
        log.end();
        resolve({
          code: code ?? -1,
          logFile,
          tail: lines.join('\n'),
          seconds: (Date.now() - started) / 1000,
        });
      });
    });
  }

  /**
   * Stops every process this cluster started, whatever state a test left it in: a playbook
   * still running, each service through its own control script (graceful), then every process whose command
   * line or working directory lies under the cluster's directory (tasks, executors, nginx,
   * anything that outlived its service). Returns how many had to be killed by the sweep.
   */
  async destroy(): Promise<number> {
    // A playbook still running (a test that timed out) would start what is being stopped.
    const playing = this.playing;
    if (playing && playing.exitCode === null) {
      // 'exit', not 'close': the playbook's own children may hold its stdio open for as long
      // as they live, and a sweep waiting on that outlived the hook (seen at load 35).
      const closed = new Promise((resolve) => playing.once('exit', resolve));
      playing.kill('SIGTERM');
      const timer = setTimeout(() => playing.kill('SIGKILL'), 10_000);
      await closed;
      clearTimeout(timer);
    }
    const stops: Promise<void>[] = [];
    for (const host of this.hosts) {
      const dir = path.join(host.vars.thales_prefix as string, 'etc', 'thales', 'services');
      for (const service of SERVICES) {
        const script = path.join(dir, service);
        if (existsSync(script)) stops.push(runQuietly(script, ['stop'], 20_000));
      }
    }
    await Promise.all(stops);
    return killProcessesUnder(this.dir);
  }
}

/** Runs a command to its end (or `timeoutMs`), ignoring what it prints and how it exits. */
function runQuietly(cmd: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'ignore', timeout: timeoutMs });
    child.once('error', () => resolve());
    child.once('close', () => resolve());
  });
}

/** Service names the roles install, in the order they are stopped. */
const SERVICES = [
  'thales-lb-agent',
  'thales-executor-cleanup',
  'thales-agent',
  'thales-scheduler',
  'zookeeper',
];

/** Packages this tree as release `version` into `outDir` (`npm run package`, already built). */
export async function packageRelease(version: string, outDir: string): Promise<string> {
  const script = path.join(repoRoot(), 'scripts', 'package.mjs');
  const args = [script, '--no-build', '--version', version, '--out', outDir];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c ?? -1));
  });
  if (code !== 0) throw new Error(`npm run package -- --version ${version} failed:\n${output}`);
  const tarball = path.join(outDir, `thales-${version}.tar.gz`);
  if (!existsSync(tarball)) throw new Error(`the packager made no ${tarball}:\n${output}`);
  return tarball;
}

/** The inventory's environment group: one machine, every "host" local. */
const ENV_GROUP = 'onebox';

function environmentVars(dir: string, lbGroup: string): Record<string, unknown> {
  return {
    ansible_connection: 'local',
    ansible_python_interpreter: '/usr/bin/python3',
    thales_service_backend: 'start-stop-daemon',
    thales_node: process.execPath,
    thales_artifact_dir: path.join(dir, 'releases'),
    // The controller is the machine: the tarball is already where the "hosts" can read it.
    thales_artifact_on_hosts: true,
    lb_agent_group: lbGroup,
    zookeeper_heap: '128m',
    // Small and quick to start, as the harness's own ZooKeeper (src/dev/zookeeper-process.ts).
    zookeeper_jvm_flags: ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'],
    gate_delay: 1,
    gate_retries: 180,
  };
}

function renderHosts(hosts: ClusterHost[]): string {
  const group = (g: AnsibleGroup): Record<string, unknown> => ({
    hosts: Object.fromEntries(hosts.filter((h) => h.group === g).map((h) => [h.name, h.vars])),
  });
  return YAML.stringify({
    [ENV_GROUP]: {
      children: {
        zookeeper: group('zookeeper'),
        schedulers: group('schedulers'),
        agents: group('agents'),
        lb_agents: group('lb_agents'),
      },
    },
  });
}
