import type { Logger } from 'pino';
import { type BatchTimeline, stageNow } from '../lb-stage-events.js';
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

/**
 * Whether going from `before` to `after` changes only a dynamic upstream's members (same
 * upstream block, same locations): nginx then needs the new members, not a reload.
 */
export function onlyMembersDiffer(
  before: RenderedService | null,
  after: RenderedService | null,
): boolean {
  return (
    before !== null &&
    after !== null &&
    before.members !== undefined &&
    after.members !== undefined &&
    before.upstreamConf === after.upstreamConf &&
    before.locationConf === after.locationConf
  );
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
  /** Filled with the wall-clock time of each stage (see `stageNow`) when someone listens. */
  timeline?: BatchTimeline;
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
  /** Services whose members went to nginx without a reload. */
  memberUpdates = 0;
  /**
   * Reload at the next batch even if no service's config changed: set when an adopted nginx
   * runs a main config rendered by another release of the agent.
   */
  reloadRequested = false;
  /**
   * Resolves once every worker older than the last reload's generation stopped accepting
   * connections (and those of the reloads before it). ACKs wait for it; the next batch is
   * written, validated and even signalled meanwhile (see {@link BatchApplier.reload}).
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
    // Services whose config needs nginx -t and a reload, and those whose members alone change.
    const structural = new Map<string, RenderedService | null>();
    const membersOnly = new Map<string, RenderedService | null>();
    for (const c of changes) {
      if (c.renderError) {
        results.set(c.serviceId, { ok: false, error: c.renderError });
        continue;
      }
      const before = this.writer.written(c.serviceId);
      (onlyMembersDiffer(before, c.files) ? membersOnly : structural).set(c.serviceId, before);
      this.writer.write(c.serviceId, c.files);
    }
    // The members file first: a reload or restart must never load members older than these.
    this.writer.writeMembersFile();
    const t1 = performance.now();
    const tl = flags.timeline;
    if (tl) tl.written = stageNow();
    const mustStart = this.nginx.masterPid() === undefined;
    // noReload: written, and served from the next reload on (which loads the members file).
    if (membersOnly.size > 0 && !mustStart && flags.reload) {
      await this.postMembers(membersOnly, results);
      if (tl) tl.membersPosted = stageNow();
    }
    if (flags.validate) {
      const refusedBefore = results.size;
      await this.validate(structural, results);
      // Refused services were restored: the members file must not keep their new members.
      if (results.size > refusedBefore) this.writer.writeMembersFile();
    }
    const t2 = performance.now();
    if (tl) tl.tested = stageNow();
    const written = [...structural.keys()].filter((id) => !results.has(id));
    if ((written.length > 0 && flags.reload) || mustStart || this.reloadRequested) {
      this.reloadRequested = false;
      const error = await this.reload(tl);
      if (error) {
        for (const [id, files] of structural) this.writer.write(id, files);
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
   * Hands the new members of `changed` (services whose config is otherwise unchanged) to the
   * running nginx: no validation and no reload — the balancer reads them on the next request.
   * If nginx does not take them, their files are restored and they are refused.
   */
  private async postMembers(
    changed: Map<string, RenderedService | null>,
    results: Map<string, ServiceOutcome>,
  ): Promise<void> {
    const ids = [...changed.keys()];
    const error = await this.nginx.postMembers(this.writer.membersOf(ids));
    if (error === undefined) {
      this.memberUpdates += ids.length;
      return;
    }
    for (const [id, files] of changed) {
      this.writer.write(id, files);
      results.set(id, { ok: false, error });
    }
    this.writer.writeMembersFile();
    // Some lines may have been stored before the failure: put the previous members back.
    const restored = await this.nginx.postMembers(this.writer.membersOf(ids));
    this.log.warn({ services: ids, error, restored: restored ?? 'ok' }, 'members refused');
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
      const present = [...backups.keys()].filter(
        (id) => !results.has(id) && this.writer.written(id),
      );
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

  /**
   * Starts or reloads nginx with a new generation; returns an error text if it failed.
   *
   * The SIGHUP does not wait for the previous generation's old workers to retire: nginx's
   * master handles reloads one at a time (signals stay pending while it sleeps its 100 ms
   * before retiring old workers), so the new parse starts the moment the previous reload is
   * done instead of after the agent has noticed the retirement. What a reload waits out before
   * its ACK is every worker except the one serving its generation (named by `$pid` in the
   * version location), which includes the previous generations' workers.
   */
  private async reload(tl?: BatchTimeline): Promise<string | undefined> {
    if (tl) tl.reloadStart = stageNow();
    this.generation += 1;
    this.writer.writeAggregates();
    this.writer.writeVersion(this.generation);
    let before: number[] = [];
    if (this.nginx.masterPid() === undefined) {
      const started = await this.nginx.start();
      if (!started.ok) return nginxError(started.output);
    } else {
      before = this.nginx.reload() ?? [];
    }
    if (tl) tl.signalled = stageNow();
    this.reloads += 1;
    const servedBy = await this.nginx.waitForVersion(String(this.generation), 10_000, before);
    if (servedBy === undefined) {
      return `nginx did not serve generation ${this.generation} after reload`;
    }
    if (tl) tl.served = stageNow();
    const old = [...new Set([...before, ...this.nginx.workers()])].filter((w) => w !== servedBy);
    const previous = this.retiring;
    // A wait that failed was reported to its own batch; it must not fail every later one.
    const settled = previous.catch(() => undefined);
    this.retiring = Promise.all([settled, this.nginx.waitOldWorkersRetired(old)]).then((r) => {
      if (tl) tl.retired = stageNow();
      return r;
    });
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
        disk.locationConf !== a.files.locationConf ||
        disk.members !== a.files.members
      ) {
        drifted.push(id);
      }
    }
    const strays = this.writer.listServices().filter((id) => !this.applied.has(id));
    const aggregates = this.writer.aggregatesDrifted();
    if (drifted.length === 0 && strays.length === 0 && !aggregates) return [];
    for (const id of drifted) this.writer.write(id, this.applied.get(id)?.files ?? null);
    for (const id of strays) this.writer.write(id, null);
    this.writer.writeAggregates(true);
    const t = await this.nginx.test();
    if (t.ok) {
      await this.reload();
      await this.retiring;
    } else this.log.error({ error: nginxError(t.output) }, 'drift repair: nginx -t failed');
    return [...drifted, ...strays, ...(aggregates ? ['(aggregate files)'] : [])];
  }
}

/** The meaningful lines of nginx's output (its `[emerg]` lines), or all of it. */
export function nginxError(output: string): string {
  const lines = output.split('\n').filter((l) => /\[(emerg|alert|crit|error)\]/.test(l));
  return (lines.length > 0 ? lines.join('\n') : output).slice(0, 2_000);
}
