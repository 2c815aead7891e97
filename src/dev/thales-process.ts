import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENDING_SIGNALS, type ProcessExit } from './process-exit.js';

/** The repository root (holding package.json), found from this module in `src/` or `dist/`. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'proto')))
      return dir;
    dir = path.dirname(dir);
  }
  throw new Error('cannot find the Thales repository root');
}

/** The compiled CLI entry point; `npm run build` makes it. */
export function thalesCliPath(): string {
  const cli = path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
  return cli;
}

/** A `thales <command>` child process with its output in a log file. */
export class ThalesProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** Whether the current run was asked to end (a SIGKILL, stop()): its exit is no crash. */
  private asked = false;
  private readonly exitListeners: ((exit: ProcessExit) => void)[] = [];

  constructor(
    readonly name: string,
    readonly args: string[],
    readonly logFile: string,
    private readonly env: NodeJS.ProcessEnv = {},
    /** Run under this group id (the chaos run matches a replica's sockets by it in iptables). */
    private readonly gid?: number,
  ) {}

  /** The OS pid while running. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /** Whether the process is alive (a stopped process counts as alive). */
  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process (again, after it exited). */
  start(): void {
    mkdirSync(path.dirname(this.logFile), { recursive: true });
    const out = openSync(this.logFile, 'a');
    // Own process group: a Ctrl-C in the terminal reaches only the orchestrator (`thales
    // dev`, a test), which stops its children in order instead of all at once.
    const child = spawn(process.execPath, [thalesCliPath(), ...this.args], {
      stdio: ['ignore', out, out],
      env: { ...process.env, ...this.env },
      detached: true,
      ...(this.gid === undefined ? {} : { gid: this.gid }),
    });
    this.child = child;
    this.asked = false;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        const exit = { name: this.name, logFile: this.logFile, code, signal, at: Date.now() };
        for (const l of this.exitListeners) l({ ...exit, asked: this.asked });
        resolve();
      }),
    );
  }

  /** Calls `listener` on every exit of the process, asked for or not. */
  onExit(listener: (exit: ProcessExit) => void): void {
    this.exitListeners.push(listener);
  }

  /** Sends a signal (SIGKILL, SIGSTOP, SIGCONT…). */
  signal(sig: NodeJS.Signals): void {
    if (!this.running) return;
    if (ENDING_SIGNALS.has(sig)) this.asked = true;
    this.child?.kill(sig);
  }

  /** Resolves when the process has exited; returns its exit code or signal. */
  async waitExit(): Promise<number | string | null> {
    await this.exited;
    return this.child?.exitCode ?? this.child?.signalCode ?? null;
  }

  /** SIGTERM (after SIGCONT, in case it is stopped), then SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.asked = true;
    this.child?.kill('SIGCONT');
    this.child?.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
