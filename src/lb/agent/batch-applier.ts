import type { Logger } from 'pino';
import type { ConfigWriter } from './config-writer.js';
import type { NginxProcess } from './nginx-process.js';
import type { RenderedService } from './nginx-renderer.js';

/** One service to change in a batch: its new files, or its removal (`files` null). */
export interface ServiceChange {
  serviceId: string;
  version: string;
  files: RenderedService | null;
  /** Set when the service could not even be rendered (e.g. unknown template). */
  renderError?: string;
}

/** The outcome for one service of a batch. */
export interface ServiceOutcome {
  ok: boolean;
  error?: string;
}

/** How a batch is applied. */
export interface BatchFlags {
  validate: boolean;
  reload: boolean;
}

/** What an agent has applied and acked for a service. */
export interface AppliedService {
  version: string;
  files: RenderedService;
}

/**
 * Applies a batch of service changes to nginx: writes every file, validates once with
 * `nginx -t` (a service named in nginx's error is restored and refused, the rest retried),
 * reloads once, and waits until nginx serves the new generation. On a reload that does not
 * take effect every file is restored. `applied` is what the agent acked, for drift checks.
 */
export class BatchApplier {
  readonly applied = new Map<string, AppliedService>();
  generation = 0;
  reloads = 0;
  /**
   * Resolves once the workers of the last reload's previous generation stopped accepting
   * connections. ACKs wait for it; the next batch writes and validates meanwhile and only its
   * reload waits for it (nginx's master sleeps 100 ms before retiring old workers).
   */
  retiring: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly writer: ConfigWriter,
    private readonly nginx: NginxProcess,
    private readonly log: Logger,
  ) {}

  /** Applies `changes`; returns each service's outcome. */
  async apply(changes: ServiceChange[], flags: BatchFlags): Promise<Map<string, ServiceOutcome>> {
    const t0 = performance.now();
    const results = new Map<string, ServiceOutcome>();
    const backups = new Map<string, RenderedService | null>();
    for (const c of changes) {
      if (c.renderError) {
        results.set(c.serviceId, { ok: false, error: c.renderError });
        continue;
      }
      backups.set(c.serviceId, this.writer.read(c.serviceId));
      this.writer.write(c.serviceId, c.files);
    }
    const t1 = performance.now();
    if (flags.validate) await this.validate(backups, results);
    const t2 = performance.now();
    const written = [...backups.keys()].filter((id) => !results.has(id));
    const mustStart = this.nginx.masterPid() === undefined;
    if ((written.length > 0 && flags.reload) || mustStart) {
      const error = await this.reload();
      if (error) {
        for (const [id, files] of backups) this.writer.write(id, files);
        for (const id of written) results.set(id, { ok: false, error });
        await this.reload();
      }
    }
    const t3 = performance.now();
    this.log.debug(
      { services: changes.length, writeMs: t1 - t0, testMs: t2 - t1, reloadMs: t3 - t2 },
      'batch applied',
    );
    for (const c of changes) {
      if (results.has(c.serviceId)) continue;
      results.set(c.serviceId, { ok: true });
      if (c.files) this.applied.set(c.serviceId, { version: c.version, files: c.files });
      else this.applied.delete(c.serviceId);
    }
    return results;
  }

  /**
   * `nginx -t` of the batch's services (see `renderTestConf`) until it passes: services named in the error are restored and refused; an
   * error naming none of them restores and refuses every service of the batch.
   */
  private async validate(
    backups: Map<string, RenderedService | null>,
    results: Map<string, ServiceOutcome>,
  ): Promise<void> {
    for (let attempt = 0; attempt <= backups.size; attempt++) {
      const present = [...backups.keys()].filter((id) => !results.has(id) && this.writer.read(id));
      if (present.length === 0) return;
      const t = await this.nginx.test(this.writer.writeTestConf(present));
      if (t.ok) return;
      const error = nginxError(t.output);
      const named = [...backups.keys()].filter(
        (id) => !results.has(id) && t.output.includes(`/${id}.conf`),
      );
      const blamed =
        named.length > 0 ? named : [...backups.keys()].filter((id) => !results.has(id));
      for (const id of blamed) {
        this.writer.write(id, backups.get(id) ?? null);
        results.set(id, { ok: false, error });
      }
      this.log.warn({ services: blamed, error }, 'nginx -t refused the batch; restored');
      if (named.length === 0) return;
    }
  }

  /** Starts or reloads nginx with a new generation; returns an error text if it failed. */
  private async reload(): Promise<string | undefined> {
    await this.retiring;
    this.generation += 1;
    this.writer.writeVersion(this.generation);
    let old: number[] = [];
    if (this.nginx.masterPid() === undefined) {
      const started = await this.nginx.start();
      if (!started.ok) return nginxError(started.output);
    } else {
      old = this.nginx.reload() ?? [];
    }
    this.reloads += 1;
    const served = await this.nginx.waitForVersion(String(this.generation));
    if (!served) return `nginx did not serve generation ${this.generation} after reload`;
    this.retiring = this.nginx.waitOldWorkersRetired(old);
    return undefined;
  }

  /** Rewrites any acked service whose files on disk differ; returns the ids repaired. */
  async repairDrift(): Promise<string[]> {
    const drifted: string[] = [];
    for (const [id, a] of this.applied) {
      const disk = this.writer.read(id);
      if (
        !disk ||
        disk.upstreamConf !== a.files.upstreamConf ||
        disk.locationConf !== a.files.locationConf
      ) {
        drifted.push(id);
      }
    }
    const strays = this.writer.listServices().filter((id) => !this.applied.has(id));
    if (drifted.length === 0 && strays.length === 0) return [];
    for (const id of drifted) this.writer.write(id, this.applied.get(id)?.files ?? null);
    for (const id of strays) this.writer.write(id, null);
    const t = await this.nginx.test();
    if (t.ok) {
      await this.reload();
      await this.retiring;
    } else this.log.error({ error: nginxError(t.output) }, 'drift repair: nginx -t failed');
    return [...drifted, ...strays];
  }
}

/** The meaningful lines of nginx's output (its `[emerg]` lines), or all of it. */
export function nginxError(output: string): string {
  const lines = output.split('\n').filter((l) => /\[(emerg|alert|crit|error)\]/.test(l));
  return (lines.length > 0 ? lines.join('\n') : output).slice(0, 2_000);
}
