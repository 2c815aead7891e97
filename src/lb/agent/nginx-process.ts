import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

/** Where an lb-agent's nginx lives: its own prefix, conf and port. */
export interface NginxPaths {
  bin: string;
  prefix: string;
  port: number;
}

/** The outcome of running nginx: its exit and what it printed (nginx prints errors on stderr). */
export interface NginxRun {
  ok: boolean;
  output: string;
}

/**
 * One nginx master owned by an lb-agent, driven by pid file: `nginx -t` to validate,
 * start (nginx daemonizes; the command returns once it listens), SIGHUP to reload, and
 * polling `/__thales/version` to know when a reload has taken effect. A master left running
 * by a previous agent process (e.g. after SIGKILL) is adopted, so traffic never stops.
 */
export class NginxProcess {
  constructor(readonly paths: NginxPaths) {}

  /** The main config file. */
  get confFile(): string {
    return path.join(this.paths.prefix, 'conf', 'nginx.conf');
  }

  /** The master's pid if it is running, from the pid file. */
  masterPid(): number | undefined {
    try {
      const pid = Number(readFileSync(path.join(this.paths.prefix, 'nginx.pid'), 'utf8').trim());
      if (!Number.isInteger(pid) || pid <= 0) return undefined;
      process.kill(pid, 0);
      return pid;
    } catch {
      return undefined;
    }
  }

  /** `nginx -t`: validates the main config as written on disk, or another config file. */
  test(confFile = this.confFile): Promise<NginxRun> {
    return this.run(['-t'], confFile);
  }

  /** Starts the master (daemonized); resolves once nginx has bound its port or failed. */
  async start(): Promise<NginxRun> {
    if (this.masterPid()) return { ok: true, output: 'already running' };
    return this.run([]);
  }

  /**
   * Asks the master to reload (SIGHUP); returns the workers of the previous generation, which
   * the caller waits out with {@link NginxProcess.waitOldWorkersRetired} after the new
   * version is served.
   */
  reload(): number[] | undefined {
    const pid = this.masterPid();
    if (!pid) return undefined;
    const old = workersOf(pid);
    process.kill(pid, 'SIGHUP');
    return old;
  }

  /**
   * Waits until every worker of the previous generation has stopped accepting connections
   * (exited, or titled "shutting down", which nginx sets once it has closed its listeners):
   * until then a new connection may still reach the old configuration.
   */
  async waitOldWorkersRetired(old: number[], timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (old.every(isRetired)) return true;
      await new Promise((r) => setTimeout(r, 5));
    }
    return false;
  }

  /** Graceful stop (SIGQUIT), then SIGKILL after `graceMs`; resolves once the master is gone. */
  async stop(graceMs = 5_000): Promise<void> {
    const pid = this.masterPid();
    if (!pid) return;
    process.kill(pid, 'SIGQUIT');
    const deadline = Date.now() + graceMs;
    while (this.masterPid() === pid) {
      if (Date.now() > deadline) {
        process.kill(pid, 'SIGKILL');
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Replaces dynamic upstreams' members (lines of nginx-lua.ts's `membersLine`) in the shared
   * dictionary; resolves with an error text, or undefined once nginx has stored them all —
   * from then on every worker's next request uses them.
   */
  async postMembers(body: string, timeoutMs = 5_000): Promise<string | undefined> {
    const res = await this.call('POST', '/__thales/members', timeoutMs, body);
    if ('error' in res) return `nginx did not take the members: ${res.error}`;
    return res.status === 200
      ? undefined
      : `nginx refused the members (${res.status}): ${res.text.trim()}`;
  }

  /** `<generation> <worker pid>` as nginx serves it now, or undefined if it does not answer. */
  async servedVersion(timeoutMs = 1_000): Promise<string | undefined> {
    const res = await this.call('GET', '/__thales/version', timeoutMs);
    return 'error' in res || res.status !== 200 ? undefined : res.text.trim();
  }

  /** One request to this nginx's agent-only locations, on a fresh connection. */
  private call(
    method: 'GET' | 'POST',
    pathname: string,
    timeoutMs: number,
    body?: string,
  ): Promise<{ status: number; text: string } | { error: string }> {
    return new Promise((resolve) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: this.paths.port,
          method,
          path: pathname,
          agent: false,
          timeout: timeoutMs,
          headers:
            body === undefined
              ? {}
              : { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', (err) => resolve({ error: err.message }));
      req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
      req.end(body);
    });
  }

  /**
   * Waits until nginx serves `version` (a reload is asynchronous); resolves with the pid of
   * the worker that answered it (`$pid` in the version location), undefined on timeout. With
   * `oldWorkers` (the master's children before the reload), nginx is asked only once the
   * master has forked a worker that is not one of them — it forks only after parsing the new
   * configuration — so the agent does not spend CPU on HTTP polls (answered by the old worker)
   * while the master parses, on a machine where that parse competes for the CPU.
   */
  async waitForVersion(
    version: string,
    timeoutMs = 10_000,
    oldWorkers?: readonly number[],
  ): Promise<number | undefined> {
    const deadline = Date.now() + timeoutMs;
    const old = new Set(oldWorkers ?? []);
    const master = oldWorkers ? this.masterPid() : undefined;
    while (Date.now() < deadline) {
      const now = master === undefined ? undefined : childrenOf(master);
      const forked = now === undefined || now.some((w) => !old.has(w));
      if (forked) {
        const [served, pid] = ((await this.servedVersion()) ?? '').split(' ');
        if (served === version) return Number(pid);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    return undefined;
  }

  /** The master's current children (its workers), or none if it is not running. */
  workers(): number[] {
    const pid = this.masterPid();
    return pid === undefined ? [] : workersOf(pid);
  }

  private run(extra: string[], confFile = this.confFile): Promise<NginxRun> {
    const { bin, prefix } = this.paths;
    const args = [
      '-p',
      prefix,
      '-c',
      confFile,
      '-e',
      path.join(prefix, 'logs', 'error.log'),
      ...extra,
    ];
    return new Promise((resolve) => {
      execFile(bin, args, { timeout: 30_000 }, (err, stdout, stderr) => {
        resolve({ ok: !err, output: `${stdout}${stderr}`.trim() });
      });
    });
  }
}

/** The child processes of `pid` from /proc (cheap), or undefined if the kernel lacks it. */
function childrenOf(pid: number): number[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((x) => x.length > 0)
      .map(Number);
  } catch {
    return undefined;
  }
}

/** The child processes of `pid` (Linux /proc; scans every process's ppid if need be). */
function workersOf(pid: number): number[] {
  return (
    childrenOf(pid) ??
    readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
        } catch {
          return false;
        }
      })
      .map(Number)
  );
}

function isRetired(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('shutting down');
  } catch {
    return true;
  }
}
