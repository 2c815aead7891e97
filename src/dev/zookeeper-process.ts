import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { findFreePorts } from './free-port.js';
import { type ProcessExit } from './process-exit.js';

/** Where Debian's `zookeeper` package puts the server jar; its manifest carries the classpath. */
const DEFAULT_JAR = '/usr/share/java/zookeeper.jar';

/** Options for one ZooKeeper server process, standalone or an ensemble member. */
export interface ZooKeeperServerOptions {
  /** Directory for this server's data, config and log (created if missing). */
  dir: string;
  /** Client port on 127.0.0.1. */
  clientPort: number;
  /** Ensemble membership; omitted for a standalone server. */
  ensemble?: { myId: number; peers: { id: number; quorumPort: number; electionPort: number }[] };
  /** ZooKeeper's tick; session timeouts are bounded by 2 and 20 ticks. */
  tickTimeMs?: number;
  /**
   * The JVM's heap, MB (default 256: a dev or test cluster). ZooKeeper holds its whole tree in
   * memory: a benchmark of 50,000 tasks needs more.
   */
  heapMb?: number;
}

/** A running ZooKeeper server started from the installed distribution. */
export class ZooKeeperServer {
  private child: ChildProcess | undefined;
  /** Whether the current run was asked to end (stop()): its exit is no crash. */
  private asked = false;
  private readonly exitListeners: ((exit: ProcessExit) => void)[] = [];

  constructor(readonly options: ZooKeeperServerOptions) {}

  /** Calls `listener` on every exit of the server, asked for or not. */
  onExit(listener: (exit: ProcessExit) => void): void {
    this.exitListeners.push(listener);
  }

  /** `host:port` of this server. */
  get address(): string {
    return `127.0.0.1:${this.options.clientPort}`;
  }

  /** The OS pid while running (benchmarks read its CPU time from /proc). */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /** Whether the server process is running. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && !this.child.killed;
  }

  /** Writes the config and starts the JVM; resolves once it accepts TCP connections. */
  async start(timeoutMs = 30_000): Promise<void> {
    const jar = resolveZooKeeperJar();
    const { dir } = this.options;
    mkdirSync(path.join(dir, 'data'), { recursive: true });
    const cfg = path.join(dir, 'zoo.cfg');
    writeFileSync(cfg, renderZooCfg(this.options));
    if (this.options.ensemble) {
      writeFileSync(path.join(dir, 'data', 'myid'), `${this.options.ensemble.myId}\n`);
    }
    const log = openSync(path.join(dir, 'zookeeper.log'), 'a');
    this.child = spawn(
      process.env.THALES_JAVA ?? 'java',
      [
        '-Xms64m',
        `-Xmx${this.options.heapMb ?? 256}m`,
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-Dzookeeper.admin.enableServer=false',
        '-cp',
        jar,
        'org.apache.zookeeper.server.quorum.QuorumPeerMain',
        cfg,
      ],
      { stdio: ['ignore', log, log], detached: true }, // own process group, as ThalesProcess
    );
    this.asked = false;
    const logFile = path.join(dir, 'zookeeper.log');
    this.child.once('exit', (code, signal) => {
      const exit = { name: `zk:${this.options.clientPort}`, logFile, code, signal };
      for (const l of this.exitListeners) l({ ...exit, at: Date.now(), asked: this.asked });
    });
    const startedAt = Date.now();
    while (Date.now() - startedAt < timeoutMs) {
      if (!this.running) throw new Error(`ZooKeeper exited early; see ${dir}/zookeeper.log`);
      if (await answersRuok(this.options.clientPort, !!this.options.ensemble)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`ZooKeeper on ${this.address} did not start in ${timeoutMs} ms`);
  }

  /** Stops the server: SIGTERM, then SIGKILL if it lingers. Safe to call twice. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.asked = true;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Finds the ZooKeeper jar, or throws a message saying what to install. */
export function resolveZooKeeperJar(): string {
  const jar = process.env.THALES_ZOOKEEPER_JAR ?? DEFAULT_JAR;
  if (!existsSync(jar)) {
    throw new Error(
      `ZooKeeper is not installed (no ${jar}). Install Debian's package (apt-get install zookeeper), ` +
        'run `npm run setup`, or set THALES_ZOOKEEPER_JAR to a ZooKeeper 3.8 jar.',
    );
  }
  return jar;
}

function renderZooCfg(o: ZooKeeperServerOptions): string {
  const tick = o.tickTimeMs ?? 200;
  const lines = [
    `tickTime=${tick}`,
    `dataDir=${path.join(o.dir, 'data')}`,
    `clientPort=${o.clientPort}`,
    'clientPortAddress=127.0.0.1',
    // Sessions from 400 ms (2 ticks) to 60 s: tests use short ones, operators long ones.
    `minSessionTimeout=${2 * tick}`,
    'maxSessionTimeout=60000',
    'maxClientCnxns=0',
    '4lw.commands.whitelist=ruok,stat,srvr,mntr',
    'admin.enableServer=false',
    'preAllocSize=4096',
    'snapCount=100000',
    'forceSync=no',
  ];
  if (o.ensemble) {
    lines.push('initLimit=50', 'syncLimit=10', 'standaloneEnabled=false');
    for (const p of o.ensemble.peers) {
      lines.push(`server.${p.id}=127.0.0.1:${p.quorumPort}:${p.electionPort}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** `ruok` → `imok` for standalone; for an ensemble member, `srvr` shows it has joined a quorum. */
function answersRuok(port: number, ensemble: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let answer = '';
    socket.setTimeout(1_000);
    socket.on('connect', () => socket.write(ensemble ? 'srvr' : 'ruok'));
    socket.on('data', (d) => (answer += d.toString()));
    socket.on('close', () =>
      resolve(ensemble ? /Mode: (leader|follower)/.test(answer) : answer === 'imok'),
    );
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => socket.destroy());
  });
}

/** A standalone server or an ensemble, started on free loopback ports under one directory. */
export class ZooKeeperCluster {
  private constructor(readonly servers: ZooKeeperServer[]) {}

  /** Comma-separated `host:port` list of all members. */
  get connectString(): string {
    return this.servers.map((s) => s.address).join(',');
  }

  /** Starts `size` servers (1 = standalone) with data under `dir`. */
  static async start(
    dir: string,
    size = 1,
    tickTimeMs = 200,
    heapMb?: number,
  ): Promise<ZooKeeperCluster> {
    const ports = await findFreePorts(size * 3);
    const peers = Array.from({ length: size }, (_, i) => ({
      id: i + 1,
      quorumPort: ports[size + 2 * i] as number,
      electionPort: ports[size + 2 * i + 1] as number,
    }));
    const servers = peers.map(
      (p, i) =>
        new ZooKeeperServer({
          dir: path.join(dir, `zk${p.id}`),
          clientPort: ports[i] as number,
          tickTimeMs,
          ...(heapMb === undefined ? {} : { heapMb }),
          ...(size > 1 ? { ensemble: { myId: p.id, peers } } : {}),
        }),
    );
    const cluster = new ZooKeeperCluster(servers);
    try {
      await Promise.all(servers.map((s) => s.start()));
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** Stops every member. */
  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
  }
}
